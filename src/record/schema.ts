/**
 * The per-session JSONL record: one line per MoA iteration.
 *
 * The schema is the reader's contract and accepts both origins: files written
 * by this package (numeric `cost_usd`, extension keys) and files written by the
 * original Python feature (`cost_usd` as a decimal string, no extensions).
 * Unknown keys are kept (loose objects) so nothing a newer writer adds is lost.
 */
import { z } from 'zod';

/** A decimal cost: a JSON number from us, a decimal string from the original. */
const costValueSchema = z.union([
  z.number(),
  z.string().regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/, 'a decimal number or decimal string'),
  z.null(),
]);

const recordUsageSchema = z.looseObject({
  /** UNCACHED input tokens. */
  input_tokens: z.number().nullable().optional(),
  output_tokens: z.number().nullable().optional(),
  cache_read_tokens: z.number().nullable().optional(),
  cache_write_tokens: z.number().nullable().optional(),
  reasoning_tokens: z.number().nullable().optional(),
});

const callCommon = {
  label: z.string(),
  model: z.string().nullable(),
  provider: z.string().nullable(),
  temperature: z.number().nullable().optional(),
  input_messages: z.array(z.unknown()),
  output: z.string().nullable(),
  // extensions written by moa-otel (absent in original files)
  usage: recordUsageSchema.optional(),
  cost_usd: costValueSchema.optional(),
  cost_status: z.string().nullable().optional(),
  cost_source: z.string().nullable().optional(),
  // null in a partial record for a call that never ended
  started_at: z.number().nullable().optional(),
  ended_at: z.number().nullable().optional(),
  duration_ms: z.number().nullable().optional(),
  span_id: z.string().optional(),
  error: z.string().nullable().optional(),
};

export const referenceRecordSchema = z.looseObject({
  ...callCommon,
  usage: recordUsageSchema,
  cost_usd: costValueSchema,
  cost_status: z.string().nullable(),
  cost_source: z.string().nullable(),
});

export const aggregatorRecordSchema = z.looseObject({
  ...callCommon,
  streamed: z.boolean(),
  output_location: z.enum(['inline', 'inline_from_stream', 'assistant_message_in_session_db']),
  tool_calls: z.array(z.unknown()).nullable().optional(),
  finish_reason: z.string().nullable().optional(),
});

export const turnRecordSchema = z.looseObject({
  ts: z.number(),
  /** Written raw as the caller gave it (`""` included, a number stays a number); readers get its text. */
  session_id: z.union([z.string(), z.number().transform(String)]).nullable(),
  preset: z.string(),
  references: z.array(referenceRecordSchema),
  aggregator: aggregatorRecordSchema,
  // extensions
  // null in a partial record whose root was never seen or never ended
  trace_id: z.string().nullable().optional(),
  span_id: z.string().nullable().optional(),
  /** Epoch seconds when the root span started (replay needs it: `ts` is when the line was written). */
  started_at: z.number().nullable().optional(),
  duration_ms: z.number().nullable().optional(),
  cache: z.enum(['miss', 'hit']).optional(),
  fanout: z.string().optional(),
  iteration: z.number().optional(),
  /** Written when the root span never ended (evicted, shut down, process exit): what was known. */
  partial: z.boolean().optional(),
  partial_reason: z.string().optional(),
});

export type TurnRecord = z.infer<typeof turnRecordSchema>;
export type ReferenceRecord = z.infer<typeof referenceRecordSchema>;
export type AggregatorRecord = z.infer<typeof aggregatorRecordSchema>;
export type RecordUsage = z.infer<typeof recordUsageSchema>;

/** Keys of the original format, in the order a line must start with. */
export const RECORD_KEY_ORDER = ['ts', 'session_id', 'preset', 'references', 'aggregator'] as const;
export const REFERENCE_KEY_ORDER = [
  'label', 'model', 'provider', 'temperature', 'input_messages', 'output', 'usage',
  'cost_usd', 'cost_status', 'cost_source',
] as const;
export const AGGREGATOR_KEY_ORDER = [
  'label', 'model', 'provider', 'temperature', 'input_messages', 'output', 'streamed', 'output_location',
] as const;
export const USAGE_KEY_ORDER = [
  'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'reasoning_tokens',
] as const;

/** Prefix of a failed reference's `output`. */
export const FAILED_OUTPUT_PREFIX = '[failed: ';
export function failedOutput(reason: string): string {
  return `${FAILED_OUTPUT_PREFIX}${reason}]`;
}
