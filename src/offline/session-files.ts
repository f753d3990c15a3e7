/**
 * The session files of a trace directory, the files a multi-session command
 * reads, and a one-pass overview of each file.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { describeFsError, TraceFileError } from './errors.js';
import { readInputBatches, inputName, type InputOptions } from './inputs.js';
import { STDIN_ARG } from './input-source.js';
import { SessionTotalsAccumulator, type SessionTotals } from './session-totals.js';
import type { TraceTarget } from './target.js';

export const SESSION_FILE_SUFFIX = '.jsonl';

/**
 * A session file's name: `<session>.jsonl`, compressed (`.gz`, `.zst`) or
 * rotated the way logrotate names them (`.jsonl.1`, `.jsonl-20250101`, then
 * compressed).
 */
const SESSION_FILE_NAME = /^(.+)\.jsonl(?:[.-][0-9][\w-]*)?(?:\.gz|\.zst)?$/;

/** Session files directly in `dir` (plain, compressed or rotated), sorted by name. */
export async function listSessionFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new TraceFileError(`trace directory ${dir}: ${describeFsError(err)}`);
  }
  return entries
    .filter((e) => e.isFile() && SESSION_FILE_NAME.test(e.name))
    .map((e) => path.join(dir, e.name))
    .sort();
}

/** The session a file name stands for: its name without `.jsonl` and any rotation or compression suffix. */
export function sessionStem(file: string): string {
  if (file === STDIN_ARG) return inputName(file);
  const name = path.basename(file);
  return SESSION_FILE_NAME.exec(name)?.[1] ?? name.replace(/\.(?:gz|zst)$/, '').replace(/\.[^.]*$/, '');
}

/** A whole session file: its totals (every session in it), size and unreadable lines. */
export interface SessionOverview extends SessionTotals {
  file: string;
  /** File stem: the sanitized session id. */
  session: string;
  sizeBytes: number;
  problems: number;
}

/** Problems are counted, not reported (except a file in no trace format): `ls` points to `validate` for the details. */
export async function overviewSession(target: TraceTarget | string, options: Pick<InputOptions, 'stdin' | 'onProblem'> = {}): Promise<SessionOverview> {
  const input = typeof target === 'string' ? { file: target } : target;
  const session = sessionStem(input.file);
  const totals = new SessionTotalsAccumulator();
  let problems = 0;
  let rawBytes = 0;
  const onProblem = (p: Parameters<NonNullable<InputOptions['onProblem']>>[0]) => {
    problems += 1;
    if (p.kind === 'format') options.onProblem?.(p);
  };
  for await (const batch of readInputBatches(input, { stdin: options.stdin, onProblem, onProgress: (bytes) => { rawBytes = bytes; }, skipContent: 'turns' })) {
    for (const { record } of batch) totals.add(record, session);
  }
  let sizeBytes = rawBytes;
  if (input.file !== STDIN_ARG) {
    try {
      sizeBytes = (await stat(input.file)).size;
    } catch (err) {
      throw new TraceFileError(`cannot read ${input.file}: ${describeFsError(err)}`);
    }
  }
  return { ...totals.totals(), file: inputName(input.file), session, sizeBytes, problems };
}
