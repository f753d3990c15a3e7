/**
 * The session files of a trace directory, the files a multi-session command
 * reads, and a one-pass overview of each file.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { describeFsError, TraceFileError } from './errors.js';
import { readTurnRecords } from './reader.js';
import { SessionTotalsAccumulator, type SessionTotals } from './session-totals.js';

export const SESSION_FILE_SUFFIX = '.jsonl';

/** `*.jsonl` files directly in `dir`, sorted by name. */
export async function listSessionFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new TraceFileError(`trace directory ${dir}: ${describeFsError(err)}`);
  }
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(SESSION_FILE_SUFFIX))
    .map((e) => path.join(dir, e.name))
    .sort();
}

/** A whole session file: its totals (every session in it), size and unreadable lines. */
export interface SessionOverview extends SessionTotals {
  file: string;
  /** File stem: the sanitized session id. */
  session: string;
  sizeBytes: number;
  problems: number;
}

/** Problems are counted, not reported: `ls` points to `validate` for the details. */
export async function overviewSession(file: string): Promise<SessionOverview> {
  const session = path.basename(file, SESSION_FILE_SUFFIX);
  const totals = new SessionTotalsAccumulator();
  let problems = 0;
  for await (const { record } of readTurnRecords(file, { onProblem: () => { problems += 1; } })) totals.add(record, session);
  let sizeBytes = 0;
  try {
    sizeBytes = (await stat(file)).size;
  } catch (err) {
    throw new TraceFileError(`cannot read ${file}: ${describeFsError(err)}`);
  }
  return { ...totals.totals(), file, session, sizeBytes, problems };
}
