/**
 * Fan-out: every reference of the preset runs concurrently, each under its
 * own timeout and AbortSignal. The instrumentation parents each reference span
 * to the turn explicitly, so starting them inside concurrent tasks is safe.
 * A failure or timeout becomes a note for the aggregator and never fails the
 * turn; results come back in preset order whatever the finishing order.
 */
import { context as otelContext } from '@opentelemetry/api';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { ModelSlotConfig } from '../config/schema.js';
import { describeFailure } from '../base/errors.js';
import type { ChatMessage, MoaTurn } from '../trace/types.js';
import { callStartFacts, meterCall, responseInfo } from './call-facts.js';
import type { ReferenceOutcome } from './guidance.js';
import { reasoningParams, SELF_PROVIDER, slotLabel, type ProviderRegistry, type ResolvedProvider } from './providers.js';
import type { ProviderCallOptions } from './request-options.js';
import { callThroughResponses } from './responses-call.js';

export interface FanoutRequest {
  turn: MoaTurn;
  slots: readonly ModelSlotConfig[];
  providers: ProviderRegistry;
  /** The exact messages every reference gets (advisor system prompt + advisory view). */
  messages: readonly ChatMessage[];
  timeoutMs: number;
  /** Temperature of a reference without its own (the preset's `reference_temperature`). */
  temperature?: number;
  /** `max_tokens` of every reference call (the preset's `reference_max_tokens`). */
  maxTokens?: number;
  /** The caller's per-call options; aborting its signal aborts every reference. */
  callOptions?: ProviderCallOptions;
}

/** The note for a reference that names the MoA client itself, as the original words it. */
export const RECURSION_SKIPPED = '[skipped: MoA presets cannot recursively reference MoA]';

/** A reference's output when it answered without any text. */
export const EMPTY_RESPONSE = '(empty response)';

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
  const { turn, messages } = request;
  const label = slotLabel(slot);
  const temperature = slot.temperature ?? request.temperature;
  const call = { provider: slot.provider, model: slot.model };
  if (slot.provider === SELF_PROVIDER) {
    // Calling ourselves would recurse: the slot is skipped with a note, and the turn goes on.
    const skipped = turn.startReference({ index, label, model: slot.model, provider: slot.provider, temperature: temperature ?? null, messages });
    skipped.end({ output: RECURSION_SKIPPED });
    return { label, ...call, output: null, failure: RECURSION_SKIPPED.slice(1, -1), skipped: true, spanContext: skipped.spanContext };
  }
  let provider: ResolvedProvider;
  try {
    provider = request.providers.get(slot.provider);
  } catch (err) {
    // Unknown provider or missing key: the turn goes on without this advisor.
    const failed = turn.startReference({
      index, label, model: slot.model, provider: slot.provider, temperature: temperature ?? null, messages,
    });
    failed.fail(err);
    return { label, ...call, output: null, failure: describeFailure(err), spanContext: failed.spanContext };
  }

  const ref = turn.startReference({ index, messages, ...callStartFacts(slot, provider, temperature) });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new ReferenceTimeoutError(request.timeoutMs)), request.timeoutMs);
  const { signal: callerSignal, ...callOptions } = request.callOptions ?? {};
  const onCallerAbort = () => controller.abort(callerSignal?.reason);
  // A signal aborted before the fan-out started never fires 'abort' again.
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    const signal = controller.signal;
    // Inside the reference's span: the HTTP request (and any instrumentation of it) nests under `chat <model>`.
    const answer = await otelContext.with(ref.context, async () => {
      if (provider.api === 'responses') {
        return callThroughResponses(provider.client, {
          model: slot.model, messages, temperature, maxTokens: request.maxTokens, reasoning: slot.reasoning, extraBody: slot.extra_body,
        }, { ...callOptions, signal });
      }
      const body = {
        ...slot.extra_body,
        model: slot.model,
        messages,
        ...(temperature !== undefined ? { temperature } : {}),
        ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
        ...reasoningParams(slot),
        stream: false as const,
      } as unknown as ChatCompletionCreateParamsNonStreaming;
      const response: ChatCompletion = await provider.client.chat.completions.create(body, { ...callOptions, signal });
      const content = response.choices?.[0]?.message?.content;
      return { text: typeof content === 'string' ? content : null, usage: response.usage, response: responseInfo(response) };
    });
    // As the original: a reply with no text is a note of its own, in the record and the guidance alike.
    const output = answer.text !== null && answer.text.trim() !== '' ? answer.text : EMPTY_RESPONSE;
    // Metered whether or not the turn records: the caller's `moa` field reports it.
    const metering = meterCall(provider, slot.model, answer.usage);
    ref.end({ output, ...metering, response: answer.response });
    return { label, ...call, output, metering, spanContext: ref.spanContext };
  } catch (err) {
    // The openai client reports our abort as a generic abort error; say why it was aborted.
    const reason: unknown = controller.signal.reason;
    const error = reason instanceof ReferenceTimeoutError ? reason : provider.scrub(err);
    ref.fail(error);
    return { label, ...call, output: null, failure: describeFailure(error), spanContext: ref.spanContext };
  } finally {
    clearTimeout(timer);
    callerSignal?.removeEventListener('abort', onCallerAbort);
  }
}
