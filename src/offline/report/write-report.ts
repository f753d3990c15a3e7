/**
 * Writes a session report in streaming passes over the file: the first
 * computes the session totals and per-model chart, the second the insights
 * section (`analyzeInsights`, the same document `insights --json` prints),
 * the third renders each turn straight to the output, so memory stays
 * bounded by one record plus the insights accumulators.
 */
import { matchesSession, type TraceTarget } from '../target.js';
import { inputName, readInput } from '../inputs.js';
import type { RecordProblem } from '../reader.js';
import { sessionStem } from '../session-files.js';
import { SessionTotalsAccumulator } from '../session-totals.js';
import { reportFoot, reportHead, reportTurn, type ReportTotals } from './html.js';
import { analyzeInsights } from '../insights/run-insights.js';
import { insightsSection } from './insights-section.js';

export interface ReportWriter {
  write(chunk: string): Promise<void>;
}

/** First pass: the session totals (the same as `ls` shows) and the per-model chart rows. */
async function reportTotals(
  target: TraceTarget, onProblem: ((p: RecordProblem) => void) | undefined, sourceName: string, onProgress?: (bytes: number) => void,
): Promise<ReportTotals> {
  const stem = sessionStem(sourceName);
  const accumulator = new SessionTotalsAccumulator();
  for await (const { record } of readInput(target, { onProblem: onProblem && ((p) => onProblem({ ...p, file: sourceName })), onProgress })) {
    if (matchesSession(record.session_id, target)) accumulator.add(record, stem);
  }
  const totals = accumulator.totals();
  const [only] = totals.sessionIds;
  return {
    ...totals,
    title: totals.sessionIds.length === 1 && typeof only === 'string' ? only : target.sessionId ?? stem,
    source: sourceName,
  };
}

/**
 * `target` is read twice, so it must be a file (the CLI spools stdin to one
 * first); `sourceName` is what the page and the problems call it.
 */
export async function writeReport(
  target: TraceTarget, out: ReportWriter, onProblem?: (p: RecordProblem) => void, sourceName = inputName(target.file),
  /** Bytes read so far over the three passes (three times the input's size in all). */
  onProgress?: (bytes: number) => void,
): Promise<number> {
  let firstPass = 0;
  const totals = await reportTotals(target, onProblem, sourceName, onProgress && ((bytes) => { firstPass = bytes; onProgress(bytes); }));
  await out.write(reportHead(totals));
  // Problems were reported by the first pass; the later passes stay quiet.
  let insightsPass = 0;
  const insights = await analyzeInsights([target.file], {
    sessions: target.sessionId !== undefined ? [target.sessionId] : [],
    workers: 0,
    onProgress: onProgress && ((done) => { insightsPass = done; onProgress(firstPass + done); }),
  });
  await out.write(insightsSection(insights));
  const beforeTurns = firstPass + insightsPass;
  let turn = 0;
  for await (const { record, line } of readInput(target, { onProgress: onProgress && ((bytes) => onProgress(beforeTurns + bytes)) })) {
    if (!matchesSession(record.session_id, target)) continue;
    turn += 1;
    await out.write(reportTurn(record, turn, line));
  }
  await out.write(reportFoot());
  return turn;
}
