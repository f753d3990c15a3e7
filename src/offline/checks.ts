/**
 * Checks beyond the schema that `validate` reports: values the schema lets
 * through but a replay or a backend would reject (a non-positive `ts`,
 * malformed ids, a call ending before it started, negative token counts).
 */
import type { AggregatorRecord, ReferenceRecord, TurnRecord } from '../record/schema.js';
import { validSpanId, validTraceId } from './replay-ids.js';

export function checkRecord(record: TurnRecord): string[] {
  const problems: string[] = [];
  if (!Number.isFinite(record.ts) || record.ts <= 0) problems.push('ts: not a positive epoch time');
  if (record.trace_id !== undefined && !validTraceId(record.trace_id)) problems.push('trace_id: expected 32 lowercase hex digits, not all zero');
  if (record.span_id !== undefined && !validSpanId(record.span_id)) problems.push('span_id: expected 16 lowercase hex digits, not all zero');
  record.references.forEach((ref, i) => problems.push(...checkCall(`references.${i}`, ref)));
  problems.push(...checkCall('aggregator', record.aggregator));
  return problems;
}

function checkCall(where: string, call: ReferenceRecord | AggregatorRecord): string[] {
  const problems: string[] = [];
  if (call.span_id !== undefined && !validSpanId(call.span_id)) problems.push(`${where}.span_id: expected 16 lowercase hex digits, not all zero`);
  if (typeof call.started_at === 'number' && typeof call.ended_at === 'number' && call.ended_at < call.started_at) {
    problems.push(`${where}: ended_at is before started_at`);
  }
  for (const [key, value] of Object.entries(call.usage ?? {})) {
    if (typeof value === 'number' && (!Number.isFinite(value) || value < 0)) problems.push(`${where}.usage.${key}: negative or not finite`);
  }
  return problems;
}
