/**
 * Writes a session report in one streaming pass over its input: each record
 * feeds the session totals (the header and the per-model charts), the
 * insights analysis (the same document `insights --json` prints) and its
 * turn's HTML, which waits in a `TurnSpool` until the header and the
 * insights section, known only at the end, are written before it. Memory
 * stays bounded by one record, the insights accumulators and the spool's
 * in-memory part.
 */
import { matchesSession, type TraceTarget } from '../target.js';
import { inputName, readInput } from '../inputs.js';
import type { RecordProblem } from '../reader.js';
import { sessionStem } from '../session-files.js';
import { SessionTotalsAccumulator } from '../session-totals.js';
import { describeFsError, TraceFileError } from '../errors.js';
import { reportFoot, reportHead, reportTurn, type ReportTotals } from './html.js';
import { InsightsAnalyzer } from '../insights/analyze.js';
import { buildDocument } from '../insights/build-document.js';
import { fileSession } from '../insights/input-files.js';
import { analyzeSettings } from '../insights/run-insights.js';
import { resolveThresholds } from '../insights/thresholds.js';
import { insightsSection } from './insights-section.js';
import { TurnSpool } from './turn-spool.js';
import { InputLedger } from './input-ledger.js';

export interface ReportWriter {
  write(chunk: string): Promise<void>;
  /** UTF-8 bytes of the page (turns kept on disk while reading); without it they are decoded and given to `write`. */
  writeBytes?(chunk: Buffer): Promise<void>;
}

export interface ReportOptions {
  /** What a target of `-` reads; default `process.stdin`. */
  stdin?: NodeJS.ReadableStream;
}

/**
 * `target` may be a file or `-` (read once); `sourceName` is what the page
 * and the problems call it. Returns the number of turns written.
 */
export async function writeReport(
  target: TraceTarget, out: ReportWriter, onProblem?: (p: RecordProblem) => void, sourceName = inputName(target.file),
  /** Bytes of the input read so far. */
  onProgress?: (bytes: number) => void,
  options: ReportOptions = {},
): Promise<number> {
  const stem = sessionStem(sourceName);
  const totals = new SessionTotalsAccumulator();
  const settings = analyzeSettings({ sessions: target.sessionId !== undefined ? [target.sessionId] : [] });
  const insights = new InsightsAnalyzer(settings);
  const insightsSession = fileSession(target.file);
  const spool = new TurnSpool();
  const ledger = new InputLedger();
  let turn = 0;
  try {
    const read = readInput(target, {
      onProblem: (p) => {
        insights.problem();
        onProblem?.({ ...p, file: sourceName });
      },
      ...(onProgress ? { onProgress } : {}),
      ...(options.stdin ? { stdin: options.stdin } : {}),
    });
    for await (const { record, line } of read) {
      insights.add(record, insightsSession);
      if (!matchesSession(record.session_id, target)) continue;
      totals.add(record, stem);
      turn += 1;
      await spoolWrite(spool, reportTurn(record, turn, line, ledger));
    }
    await out.write(reportHead(titled(totals, target, stem, sourceName)));
    await out.write(insightsSection(buildDocument(insights.finish(), settings, resolveThresholds())));
    await spool.replay((chunk) => out.write(chunk), out.writeBytes && ((chunk) => (out.writeBytes as (c: Buffer) => Promise<void>)(chunk)));
    await out.write(reportFoot());
  } finally {
    await spool.dispose();
  }
  return turn;
}

function titled(accumulator: SessionTotalsAccumulator, target: TraceTarget, stem: string, source: string): ReportTotals {
  const totals = accumulator.totals();
  const [only] = totals.sessionIds;
  return {
    ...totals,
    title: totals.sessionIds.length === 1 && typeof only === 'string' ? only : target.sessionId ?? stem,
    source,
  };
}

async function spoolWrite(spool: TurnSpool, chunk: string): Promise<void> {
  await spool.write(chunk).catch(rethrowSpoolError);
}

function rethrowSpoolError(err: unknown): never {
  // Errors of the output itself come from the caller's writer, not from here.
  throw new TraceFileError(`cannot keep the report's pages in a temporary file: ${describeFsError(err)}`);
}
