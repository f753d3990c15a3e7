/**
 * Following a trace file as turns are appended (`tail -f`). The file is
 * polled: only complete lines are consumed, an unfinished last line is
 * re-read on the next poll, and a file that shrinks (rotated or truncated)
 * is read again from the start.
 */
import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { readTurnRecords, type ReadPosition, type ReadRecord, type RecordProblem } from './reader.js';

/**
 * Parses the complete lines from `from` to the end of the file and returns the
 * position after the last complete one (bad lines included, so they are
 * reported once, not on every poll).
 */
export async function readAppended(
  file: string, from: ReadPosition, onRecord: (r: ReadRecord) => void, onProblem?: (p: RecordProblem) => void,
): Promise<ReadPosition> {
  let consumed = from;
  const records = readTurnRecords(file, { from, readUnterminated: false, onProblem, onConsumed: (p) => { consumed = p; } });
  for await (const record of records) onRecord(record);
  return consumed;
}

export interface FollowOptions {
  signal: AbortSignal;
  from: ReadPosition;
  onRecord: (r: ReadRecord) => void;
  onProblem?: (p: RecordProblem) => void;
  pollMs?: number;
}

/** Polls until `signal` aborts. */
export async function followFile(file: string, options: FollowOptions): Promise<void> {
  let position = options.from;
  const pollMs = options.pollMs ?? 200;
  while (!options.signal.aborted) {
    // Not there (yet, or rotated away): keep waiting.
    const size = await stat(file).then((info) => info.size, () => null);
    if (size !== null) {
      if (size < position.offset) position = { offset: 0, lines: 0 };
      if (size > position.offset) position = await readAppended(file, position, options.onRecord, options.onProblem);
    }
    try {
      await sleep(pollMs, undefined, { signal: options.signal });
    } catch {
      break; // aborted
    }
  }
}
