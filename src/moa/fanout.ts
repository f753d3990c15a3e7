/**
 * Fan-out: every reference of the preset runs concurrently, each under its
 * own timeout and AbortSignal. The instrumentation parents each reference span
 * to the turn explicitly, so starting them inside concurrent tasks is safe.
 * A failure or timeout becomes a note for the aggregator and never fails the
 * turn; results come back in preset order whatever the finishing order.
 */
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { ModelSlotConfig } from '../config/schema.js';
import type { ChatMessage, MoaTurn } from '../trace/types.js';
import type { ReferenceOutcome } from './guidance.js';
import { priceCall } from './pricing.js';
import { reasoningParams, slotLabel, type ProviderRegistry } from './providers.js';
import { normalizeUsage } from './usage.js';

export interface FanoutRequest {
  turn: MoaTurn;
  slots: readonly ModelSlotConfig[];
  providers: ProviderRegistry;
  /** The exact messages every reference gets (advisor system prompt + advisory view). */
  messages: readonly ChatMessage[];
  timeoutMs: number;
  /** The caller's signal: aborting it aborts every reference. */
  signal?: AbortSignal;
}

export class ReferenceTimeoutError extends Error {
  override readonly name = 'ReferenceTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
  }
}

export async function runFanout(request: FanoutRequest): Promise<ReferenceOutcome[]> {
  return Promise.all(request.slots.map((slot, index) => runReference(request, slot, index)));
}

async function runReference(request: FanoutRequest, slot: ModelSlotConfig, index: number): Promise<ReferenceOutcome> {
  const label = slotLabel(slot);
  let provider;
  try {
    provider = request.providers.get(slot.provider);
  } catch (err) {
    // Unknown provider or missing key: the turn goes on without this advisor.
    const ref = request.turn.startReference({
      index, label, model: slot.model, provider: slot.provider,
      temperature: slot.temperature ?? null, messages: request.messages,
    });
    ref.fail(err);
    return { label, output: null, failure: reasonOf(err) };
  }

  const ref = request.turn.startReference({
    index,
    label,
    model: slot.model,
    provider: provider.name,
    genAiProvider: provider.genAiProvider,
    temperature: slot.temperature ?? null,
    messages: request.messages,
    ...(provider.serverAddress ? { serverAddress: provider.serverAddress } : {}),
    ...(provider.serverPort ? { serverPort: provider.serverPort } : {}),
  });

  const controller = new AbortController();
  const timeout = new ReferenceTimeoutError(request.timeoutMs);
  const timer = setTimeout(() => controller.abort(timeout), request.timeoutMs);
  const onCallerAbort = () => controller.abort(request.signal?.reason);
  request.signal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    const body = {
      model: slot.model,
      messages: request.messages,
      ...(slot.temperature !== undefined ? { temperature: slot.temperature } : {}),
      ...reasoningParams(slot),
      stream: false as const,
    } as unknown as ChatCompletionCreateParamsNonStreaming;
    const response: ChatCompletion = await provider.client.chat.completions.create(body, { signal: controller.signal });
    const output = response.choices?.[0]?.message?.content ?? '';
    const normalized = normalizeUsage(response.usage);
    const usage = normalized?.usage ?? null;
    ref.end({
      output,
      usage,
      cost: priceCall({
        provider: provider.name, genAiProvider: provider.genAiProvider, baseURL: provider.baseURL,
        model: slot.model, usage, rawUsage: response.usage, included: provider.included,
      }),
      response: {
        id: response.id ?? null,
        model: response.model ?? null,
        finishReasons: (response.choices ?? []).map((c) => c.finish_reason).filter((r): r is NonNullable<typeof r> => r != null),
      },
    });
    return { label, output };
  } catch (err) {
    // The openai client reports our abort as a generic abort error; say why it was aborted.
    const error = controller.signal.aborted && controller.signal.reason === timeout ? timeout : provider.scrub(err);
    ref.fail(error);
    return { label, output: null, failure: reasonOf(error) };
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onCallerAbort);
  }
}

function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (message.split('\n')[0] ?? message).trim() || 'unknown error';
}
