/**
 * What the offline commands show about one record, computed once: per call
 * role, model, tokens, exact cost, duration and status, and the turn totals.
 * Tokens follow the JSONL convention (input = UNCACHED input).
 */
import {
  FAILED_OUTPUT_PREFIX, type AggregatorRecord, type RecordUsage, type ReferenceRecord, type TurnRecord,
} from '../export/record.js';
import { DecimalSum, formatDecimal, parseDecimal, type ScaledDecimal } from './decimal.js';

export interface TokenCounts {
  /** Uncached input. */
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
}

export type CallRoleName = 'reference' | 'aggregator';

export interface CallSummary {
  role: CallRoleName;
  /** Reference position; undefined for the aggregator. */
  index?: number;
  label: string;
  model: string | null;
  provider: string | null;
  /** Null when the record has no usage for this call (original aggregator records). */
  tokens: TokenCounts | null;
  /** Exact decimal text, or null when unknown. */
  costUsd: string | null;
  /** The same cost, parsed (for exact sums without re-parsing the text). */
  cost: ScaledDecimal | null;
  costStatus: string | null;
  durationMs: number | null;
  failed: boolean;
  error: string | null;
  output: string | null;
  call: ReferenceRecord | AggregatorRecord;
}

export interface TurnSummary {
  calls: CallSummary[];
  referenceCount: number;
  referenceFailed: number;
  tokens: TokenCounts;
  /** Exact sum of the known call costs; null when none is known. */
  costUsd: string | null;
}

export const ZERO_TOKENS: Readonly<TokenCounts> = Object.freeze({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 });

export function summarizeTurn(record: TurnRecord): TurnSummary {
  const calls: CallSummary[] = record.references.map((ref, index) => summarizeCall('reference', ref, index));
  calls.push(summarizeCall('aggregator', record.aggregator));
  const cost = new DecimalSum();
  let tokens: TokenCounts = { ...ZERO_TOKENS };
  for (const call of calls) {
    if (call.cost) cost.addDecimal(call.cost);
    if (call.tokens) tokens = addTokens(tokens, call.tokens);
  }
  return {
    calls,
    referenceCount: record.references.length,
    referenceFailed: calls.filter((c) => c.role === 'reference' && c.failed).length,
    tokens,
    costUsd: cost.toNullableString(),
  };
}

export function summarizeCall(role: CallRoleName, call: ReferenceRecord | AggregatorRecord, index?: number): CallSummary {
  const failed = isFailedCall(call);
  const cost = parseDecimal(call.cost_usd);
  return {
    role,
    ...(index !== undefined ? { index } : {}),
    label: call.label,
    model: call.model,
    provider: call.provider,
    tokens: call.usage ? tokensOf(call.usage) : null,
    costUsd: cost ? formatDecimal(cost) : null,
    cost,
    costStatus: call.cost_status ?? null,
    durationMs: callDurationMs(call),
    failed,
    error: failed ? failureReason(call) : null,
    output: call.output,
    call,
  };
}

export function isFailedCall(call: ReferenceRecord | AggregatorRecord): boolean {
  return (typeof call.error === 'string' && call.error !== '')
    || (typeof call.output === 'string' && call.output.startsWith(FAILED_OUTPUT_PREFIX) && call.output.endsWith(']'));
}

export function failureReason(call: ReferenceRecord | AggregatorRecord): string {
  if (typeof call.error === 'string' && call.error !== '') return call.error;
  const out = call.output ?? '';
  return out.startsWith(FAILED_OUTPUT_PREFIX) ? out.slice(FAILED_OUTPUT_PREFIX.length, -1) : 'failed';
}

export function callDurationMs(call: ReferenceRecord | AggregatorRecord): number | null {
  if (typeof call.duration_ms === 'number' && Number.isFinite(call.duration_ms)) return call.duration_ms;
  if (typeof call.started_at === 'number' && typeof call.ended_at === 'number' && call.ended_at >= call.started_at) {
    return (call.ended_at - call.started_at) * 1000;
  }
  return null;
}

export function tokensOf(usage: RecordUsage): TokenCounts {
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
  return {
    input: n(usage.input_tokens),
    output: n(usage.output_tokens),
    cacheRead: n(usage.cache_read_tokens),
    cacheWrite: n(usage.cache_write_tokens),
    reasoning: n(usage.reasoning_tokens),
  };
}

export function addTokens(a: TokenCounts, b: TokenCounts): TokenCounts {
  return {
    input: a.input + b.input,
    output: a.output + b.output,
    cacheRead: a.cacheRead + b.cacheRead,
    cacheWrite: a.cacheWrite + b.cacheWrite,
    reasoning: a.reasoning + b.reasoning,
  };
}

/** Every token billed: uncached input, cache reads and writes, output (reasoning is part of output). */
export function totalTokens(t: TokenCounts): number {
  return t.input + t.cacheRead + t.cacheWrite + t.output;
}
