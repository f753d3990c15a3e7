/**
 * The session files of a trace directory, the files a multi-session command
 * reads, and a one-pass overview of each file.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { describeFsError, TraceFileError } from './errors.js';
import { readTurnRecords } from './reader.js';
import { addUsage, ZERO_USAGE } from '../record/usage.js';
import type { Usage } from '../record/usage.js';
import { summarizeTurn } from './summary.js';
import { DecimalSum } from './decimal.js';

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

export interface SessionOverview {
  file: string;
  /** File stem: the sanitized session id. */
  session: string;
  /** Distinct raw session ids seen in the file (null for records without one). */
  sessionIds: (string | null)[];
  turns: number;
  references: number;
  failedReferences: number;
  tokens: Usage;
  /** Exact decimal text; null when no cost was known. */
  costUsd: string | null;
  firstTs: number | null;
  lastTs: number | null;
  sizeBytes: number;
  problems: number;
}

/** Problems are counted, not reported: `ls` points to `validate` for the details. */
export async function overviewSession(file: string): Promise<SessionOverview> {
  const ids = new Set<string | null>();
  const cost = new DecimalSum();
  let tokens = ZERO_USAGE;
  let turns = 0;
  let references = 0;
  let failedReferences = 0;
  let firstTs: number | null = null;
  let lastTs: number | null = null;
  let problems = 0;
  for await (const { record } of readTurnRecords(file, { onProblem: () => { problems += 1; } })) {
    const s = summarizeTurn(record);
    turns += 1;
    references += s.referenceCount;
    failedReferences += s.referenceFailed;
    tokens = addUsage(tokens, s.tokens);
    cost.addSum(s.cost);
    ids.add(record.session_id);
    firstTs = firstTs === null ? record.ts : Math.min(firstTs, record.ts);
    lastTs = lastTs === null ? record.ts : Math.max(lastTs, record.ts);
  }
  let sizeBytes = 0;
  try {
    sizeBytes = (await stat(file)).size;
  } catch (err) {
    throw new TraceFileError(`cannot read ${file}: ${describeFsError(err)}`);
  }
  return {
    file,
    session: path.basename(file, SESSION_FILE_SUFFIX),
    sessionIds: [...ids],
    turns, references, failedReferences, tokens,
    costUsd: cost.toNullableString(),
    firstTs, lastTs, sizeBytes, problems,
  };
}
