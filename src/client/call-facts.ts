/**
 * What the instrumentation is told about one provider call, shared by the
 * reference fan-out and the aggregator: who is called (at start), and what
 * the response said, used and cost (at the end).
 */
import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { ModelSlotConfig } from '../config/schema.js';
import type { CallStart, Cost, ResponseInfo, Usage } from '../trace/types.js';
import { priceCall } from './pricing.js';
import { slotLabel, type ResolvedProvider } from './providers.js';
import { normalizeUsage } from './usage.js';

/** The start facts of a call to `slot` through `provider`, everything but the messages. */
export function callStartFacts(slot: ModelSlotConfig, provider: ResolvedProvider, temperature: number | undefined): Omit<CallStart, 'messages'> {
  return {
    label: slotLabel(slot),
    model: slot.model,
    provider: provider.name,
    genAiProvider: provider.genAiProvider,
    temperature: temperature ?? null,
    serverAddress: provider.serverAddress,
    serverPort: provider.serverPort,
    // A string `reasoning` is an effort level; an object is provider-specific and has no single level.
    reasoningLevel: typeof slot.reasoning === 'string' ? slot.reasoning : null,
  };
}

/** Response id, model and finish reasons of a non-streamed completion. */
export function responseInfo(response: ChatCompletion): ResponseInfo {
  return {
    id: response.id ?? null,
    model: response.model ?? null,
    finishReasons: (response.choices ?? []).map((c) => c.finish_reason).filter((r): r is NonNullable<typeof r> => r != null),
  };
}

/** What one call used and cost. */
export interface CallMetering {
  usage: Usage | null;
  cost: Cost;
}

/** Normalized usage and the cost of one call, priced with its own provider and model. */
export function meterCall(provider: ResolvedProvider, model: string, rawUsage: unknown): CallMetering {
  const usage = normalizeUsage(rawUsage)?.usage ?? null;
  return {
    usage,
    cost: priceCall({
      provider: provider.name,
      genAiProvider: provider.genAiProvider,
      baseURL: provider.baseURL,
      model,
      usage,
      rawUsage,
      included: provider.included,
    }),
  };
}
