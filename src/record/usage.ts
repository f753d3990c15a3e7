/**
 * Token usage of one model call and the arithmetic on it, shared by the live
 * instrumentation, the MoA client's pricing, the record builder and the
 * offline tools: every sum of token buckets is here.
 *
 * `inputTokens` is the UNCACHED input (the JSONL convention); spans add cache
 * reads and writes back for the GenAI meaning of `gen_ai.usage.input_tokens`.
 */
import type { RecordUsage } from './schema.js';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
}

export const ZERO_USAGE: Usage = Object.freeze({
  inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0,
});

/** Usage with every bucket a finite, non-negative number (missing or bad values become 0). */
export function sanitizeUsage(u: Partial<Usage> | null | undefined): Usage {
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  return {
    inputTokens: n(u?.inputTokens),
    outputTokens: n(u?.outputTokens),
    cacheReadTokens: n(u?.cacheReadTokens),
    cacheWriteTokens: n(u?.cacheWriteTokens),
    reasoningTokens: n(u?.reasoningTokens),
  };
}

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
  };
}

/** Input tokens in the GenAI meaning (and price tables'): uncached input plus cache reads and writes. */
export function genAiInputTokens(u: Usage): number {
  return u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens;
}

/** Every token billed: all input (cached or not) and output; reasoning is part of output. */
export function totalTokens(u: Usage): number {
  return genAiInputTokens(u) + u.outputTokens;
}

/** A record's usage (JSONL names) as `Usage`; missing, negative or non-finite counts become 0. */
export function usageOfRecord(usage: RecordUsage): Usage {
  return sanitizeUsage({
    inputTokens: usage.input_tokens ?? 0, outputTokens: usage.output_tokens ?? 0, cacheReadTokens: usage.cache_read_tokens ?? 0,
    cacheWriteTokens: usage.cache_write_tokens ?? 0, reasoningTokens: usage.reasoning_tokens ?? 0,
  });
}
