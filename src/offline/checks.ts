/**
 * Checks beyond the schema that `validate` reports: values the schema lets
 * through but a replay or a backend would reject (a non-positive `ts`,
 * malformed ids, a call ending before it started, negative token counts).
 */
import type { AggregatorRecord, ReferenceRecord, TurnRecord } from '../record/schema.js';
import { validSpanId, validTraceId } from './replay-ids.js';

export function checkRecord(record: TurnRecord): string[] {
  // Runs on every record of a file: no problem text (nor list per call) is built for a record without problems.
  const problems: string[] = [];
  if (!Number.isFinite(record.ts) || record.ts <= 0) problems.push('ts: not a positive epoch time');
  if (record.trace_id !== undefined && !validTraceId(record.trace_id)) problems.push('trace_id: expected 32 lowercase hex digits, not all zero');
  if (record.span_id !== undefined && !validSpanId(record.span_id)) problems.push('span_id: expected 16 lowercase hex digits, not all zero');
  for (let i = 0; i < record.references.length; i++) checkCall(record.references[i] as ReferenceRecord, i, problems);
  checkCall(record.aggregator, -1, problems);
  return problems;
}

/** `index` of a reference, -1 for the aggregator. */
function checkCall(call: ReferenceRecord | AggregatorRecord, index: number, problems: string[]): void {
  const where = () => (index < 0 ? 'aggregator' : `references.${index}`);
  if (call.span_id !== undefined && !validSpanId(call.span_id)) problems.push(`${where()}.span_id: expected 16 lowercase hex digits, not all zero`);
  if (typeof call.started_at === 'number' && typeof call.ended_at === 'number' && call.ended_at < call.started_at) {
    problems.push(`${where()}: ended_at is before started_at`);
  }
  const usage = call.usage;
  if (usage === undefined) return;
  for (const key of Object.keys(usage)) {
    const value = usage[key];
    if (typeof value === 'number' && (!Number.isFinite(value) || value < 0)) problems.push(`${where()}.usage.${key}: negative or not finite`);
  }
}
