/**
 * What the offline commands show about one record, computed once: per call
 * role, model, tokens, exact cost, duration and status, and the turn totals.
 * Tokens are the instrumentation's `Usage` (input = UNCACHED input, the JSONL
 * convention), so replayed spans get them without another conversion.
 */
import { FAILED_OUTPUT_PREFIX, type AggregatorRecord, type ReferenceRecord, type TurnRecord } from '../record/schema.js';
import { addUsage, usageOfRecord, ZERO_USAGE } from '../record/usage.js';
import type { Usage } from '../record/usage.js';
import { DecimalSum, formatDecimal, parseDecimal, type ScaledDecimal } from '../record/decimal.js';

interface CallSummaryFacts {
  label: string;
  model: string | null;
  provider: string | null;
  /** Null when the record has no usage for this call (original aggregator records). */
  tokens: Usage | null;
  /** Exact decimal text, or null when unknown. */
  costUsd: string | null;
  /** The same cost, parsed (for exact sums without re-parsing the text). */
  cost: ScaledDecimal | null;
  costStatus: string | null;
  durationMs: number | null;
  failed: boolean;
  /** The failure reason when `failed`, else null. */
  error: string | null;
  output: string | null;
}

export type CallSummary =
  | (CallSummaryFacts & { role: 'reference'; index: number; call: ReferenceRecord })
  | (CallSummaryFacts & { role: 'aggregator'; call: AggregatorRecord });

export interface TurnSummary {
  /** The references in order, then the aggregator. */
  calls: CallSummary[];
  referenceCount: number;
  referenceFailed: number;
  tokens: Usage;
  /** Exact sum of the known call costs (`count` 0 when none is known). */
  cost: DecimalSum;
}

export function summarizeTurn(record: TurnRecord): TurnSummary {
  // Each summary built by one literal (no spread), in one loop: every call of every record gets the same
  // shape, so the optimized code of the commands that summarize thousands of records stays valid.
  const calls: CallSummary[] = [];
  const references = record.references;
  for (let index = 0; index < references.length; index++) calls.push(callSummary(references[index] as ReferenceRecord, index));
  calls.push(callSummary(record.aggregator, undefined));
  const cost = new DecimalSum();
  let tokens = ZERO_USAGE;
  let referenceFailed = 0;
  for (const call of calls) {
    if (call.cost) cost.addDecimal(call.cost);
    if (call.tokens) tokens = addUsage(tokens, call.tokens);
    if (call.role === 'reference' && call.failed) referenceFailed += 1;
  }
  return { calls, referenceCount: references.length, referenceFailed, tokens, cost };
}

/** A reference's summary when given its index, else the aggregator's (`index` left undefined, so one shape for both). */
function callSummary(call: ReferenceRecord | AggregatorRecord, index: number | undefined): CallSummary {
  const failed = isFailedCall(call);
  const cost = parseDecimal(call.cost_usd);
  return {
    role: index === undefined ? 'aggregator' : 'reference', index, call,
    label: call.label,
    model: call.model,
    provider: call.provider,
    tokens: call.usage ? usageOfRecord(call.usage) : null,
    costUsd: cost ? formatDecimal(cost) : null,
    cost,
    costStatus: call.cost_status ?? null,
    durationMs: callDurationMs(call),
    failed,
    error: failed ? failureReason(call) : null,
    output: call.output,
  } as CallSummary;
}

export function isFailedCall(call: ReferenceRecord | AggregatorRecord): boolean {
  return (typeof call.error === 'string' && call.error !== '')
    || (typeof call.output === 'string' && call.output.startsWith(FAILED_OUTPUT_PREFIX) && call.output.endsWith(']'));
}

function failureReason(call: ReferenceRecord | AggregatorRecord): string {
  if (typeof call.error === 'string' && call.error !== '') return call.error;
  const out = call.output ?? '';
  return out.startsWith(FAILED_OUTPUT_PREFIX) ? out.slice(FAILED_OUTPUT_PREFIX.length, -1) : 'failed';
}

function callDurationMs(call: ReferenceRecord | AggregatorRecord): number | null {
  if (typeof call.duration_ms === 'number' && Number.isFinite(call.duration_ms)) return call.duration_ms;
  if (typeof call.started_at === 'number' && typeof call.ended_at === 'number' && call.ended_at >= call.started_at) {
    return (call.ended_at - call.started_at) * 1000;
  }
  return null;
}

/** Token counts as the `--json` outputs print them (JSONL names). */
export function usageJson(t: Usage) {
  return {
    input: t.inputTokens, output: t.outputTokens, cache_read: t.cacheReadTokens,
    cache_write: t.cacheWriteTokens, reasoning: t.reasoningTokens,
  };
}

/** A message split for display: role, string content, and every other property (parts, tool calls, extras). */
export interface MessageParts {
  role: string | null;
  text: string | null;
  /** Everything but `role` and a string `content`; null when nothing is left. */
  rest: Record<string, unknown> | null;
}

/** Null when the value is not a message object at all. */
export function messageParts(message: unknown): MessageParts | null {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) return null;
  const m = message as Record<string, unknown>;
  const text = typeof m.content === 'string' ? m.content : null;
  const rest: Record<string, unknown> = {};
  for (const key of Object.keys(m)) {
    if (key !== 'role' && !(key === 'content' && text !== null)) rest[key] = m[key];
  }
  return { role: typeof m.role === 'string' ? m.role : null, text, rest: Object.keys(rest).length > 0 ? rest : null };
}
