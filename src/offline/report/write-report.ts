/**
 * Writes a session report in two streaming passes over the file: the first
 * computes the session totals and per-model chart, the second renders each
 * turn straight to the output, so memory stays bounded by one record.
 */
import path from 'node:path';
import { matchesSession, type TraceTarget } from '../target.js';
import { readTurnRecords, type RecordProblem } from '../reader.js';
import { SESSION_FILE_SUFFIX } from '../session-files.js';
import { StatsAccumulator } from '../stats.js';
import { reportFoot, reportHead, reportTurn, type ReportTotals } from './html.js';

export interface ReportWriter {
  write(chunk: string): Promise<void>;
}

/** First pass: session totals and the per-model chart rows, from one stats accumulator. */
async function reportTotals(target: TraceTarget, onProblem?: (p: RecordProblem) => void): Promise<ReportTotals> {
  const byModel = new StatsAccumulator('model');
  const ids = new Set<string | null>();
  const stem = path.basename(target.file, SESSION_FILE_SUFFIX);
  let firstTs: number | null = null;
  let lastTs: number | null = null;
  for await (const { record } of readTurnRecords(target.file, { onProblem })) {
    if (!matchesSession(record.session_id, target)) continue;
    byModel.add(record, stem);
    ids.add(record.session_id);
    firstTs = firstTs === null ? record.ts : Math.min(firstTs, record.ts);
    lastTs = lastTs === null ? record.ts : Math.max(lastTs, record.ts);
  }
  const total = byModel.totals();
  const [only] = ids;
  return {
    title: ids.size === 1 && typeof only === 'string' ? only : target.sessionId ?? stem,
    source: target.file,
    sessionIds: [...ids],
    turns: total.turns,
    calls: total.calls,
    failedCalls: total.failedCalls,
    tokens: total.tokens,
    // No known cost at all is "unknown", not "$0".
    costUsd: total.unknownCostCalls === total.calls ? null : total.costUsd,
    firstTs,
    lastTs,
    byModel: byModel.rows(),
  };
}

export async function writeReport(target: TraceTarget, out: ReportWriter, onProblem?: (p: RecordProblem) => void): Promise<number> {
  const totals = await reportTotals(target, onProblem);
  await out.write(reportHead(totals));
  let turn = 0;
  // Problems were reported by the first pass; the second pass stays quiet.
  for await (const { record, line } of readTurnRecords(target.file)) {
    if (!matchesSession(record.session_id, target)) continue;
    turn += 1;
    await out.write(reportTurn(record, turn, line));
  }
  await out.write(reportFoot());
  return turn;
}
