/**
 * `export --format calls`: every call of the given inputs as rows of the
 * calls table, streamed to a table writer one batch at a time.
 */
import { callsRows, type CallsRow } from './calls-table.js';
import { PARQUET_ROW_GROUP, type TableSummary, type TableWriter } from './calls-writers.js';
import { readInputs, type InputOptions } from './inputs.js';
import { matchesSession, type TraceTarget } from './target.js';

export interface CallsExportSummary extends TableSummary {
  turns: number;
}

export async function exportCalls(
  targets: readonly TraceTarget[], writer: TableWriter, options: Pick<InputOptions, 'onProblem' | 'onProgress' | 'stdin'> = {},
): Promise<CallsExportSummary> {
  let batch: CallsRow[] = [];
  let turns = 0;
  for await (const { record, target } of readInputs(targets, { ...options, skipContent: true })) {
    if (!matchesSession(record.session_id, target)) continue;
    turns += 1;
    for (const row of callsRows(record)) batch.push(row);
    if (batch.length >= PARQUET_ROW_GROUP) {
      await writer.write(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await writer.write(batch);
  return { ...(await writer.finish()), turns };
}
