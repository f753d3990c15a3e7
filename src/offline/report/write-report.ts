/**
 * Writes a session report in two streaming passes over the file: the first
 * computes the session totals and per-model chart, the second renders each
 * turn straight to the output, so memory stays bounded by one record.
 */
import path from 'node:path';
import { matchesSession, type TraceTarget } from '../cli-support.js';
import { DecimalSum } from '../decimal.js';
import { readTurnRecords, type RecordProblem } from '../reader.js';
import { SESSION_FILE_SUFFIX } from '../session-files.js';
import { StatsAccumulator } from '../stats.js';
import { addTokens, summarizeTurn, ZERO_TOKENS } from '../summary.js';
import { reportFoot, reportHead, reportTurn, type ReportTotals } from './html.js';

export interface ReportWriter {
  write(chunk: string): Promise<void>;
}

export async function reportTotals(target: TraceTarget, onProblem?: (p: RecordProblem) => void): Promise<ReportTotals> {
  const byModel = new StatsAccumulator('model');
  const cost = new DecimalSum();
  const ids = new Set<string | null>();
  const stem = path.basename(target.file, SESSION_FILE_SUFFIX);
  const totals: ReportTotals = {
    title: target.sessionId ?? stem, source: target.file, sessionIds: [], turns: 0, calls: 0, failedCalls: 0,
    tokens: { ...ZERO_TOKENS }, costUsd: null, firstTs: null, lastTs: null, byModel: [],
  };
  for await (const { record } of readTurnRecords(target.file, { onProblem })) {
    if (!matchesSession(record.session_id, target)) continue;
    const s = summarizeTurn(record);
    totals.turns += 1;
    totals.calls += s.calls.length;
    totals.failedCalls += s.calls.filter((c) => c.failed).length;
    totals.tokens = addTokens(totals.tokens, s.tokens);
    cost.add(s.costUsd);
    ids.add(record.session_id);
    totals.firstTs = totals.firstTs === null ? record.ts : Math.min(totals.firstTs, record.ts);
    totals.lastTs = totals.lastTs === null ? record.ts : Math.max(totals.lastTs, record.ts);
    byModel.add(record, stem);
  }
  totals.costUsd = cost.toNullableString();
  totals.sessionIds = [...ids];
  totals.byModel = byModel.rows();
  if (ids.size === 1) {
    const [only] = ids;
    if (typeof only === 'string') totals.title = only;
  }
  return totals;
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
