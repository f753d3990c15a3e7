/**
 * Following a trace file as turns are appended (`tail -f`). The file is
 * polled: only complete lines are consumed, an unfinished last line is
 * re-read on the next poll, and a file that shrinks (rotated or truncated)
 * is read again from the start.
 */
import { open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeFsError, TraceFileError } from './errors.js';
import { LineSplitter } from './line-splitter.js';
import { RecordLineParser, type ReadRecord, type RecordProblem } from './reader.js';

export interface FollowPosition {
  offset: number;
  lines: number;
}

/**
 * Parses the complete lines in [from.offset, end of file) and returns the
 * position after the last complete one.
 */
export async function readAppended(
  file: string, from: FollowPosition, onRecord: (r: ReadRecord) => void, onProblem?: (p: RecordProblem) => void,
): Promise<FollowPosition> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw new TraceFileError(`cannot read ${file}: ${describeFsError(err)}`);
  }
  const parser = new RecordLineParser(file, onProblem, from.lines);
  const splitter = new LineSplitter(from.offset);
  const buffer = Buffer.allocUnsafe(1 << 20);
  let position = from.offset;
  let consumed = from;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      splitter.push(buffer.subarray(0, bytesRead), (line) => {
        const record = parser.parse(line, false);
        consumed = { offset: line.endOffset, lines: parser.lineNumber };
        if (record) onRecord(record);
      });
    }
  } finally {
    await handle.close();
  }
  return consumed;
}

export interface FollowOptions {
  signal: AbortSignal;
  from: FollowPosition;
  onRecord: (r: ReadRecord) => void;
  onProblem?: (p: RecordProblem) => void;
  pollMs?: number;
}

/** Polls until `signal` aborts. */
export async function followFile(file: string, options: FollowOptions): Promise<void> {
  let position = options.from;
  const pollMs = options.pollMs ?? 200;
  while (!options.signal.aborted) {
    let size: number | null = null;
    try {
      size = (await stat(file)).size;
    } catch {
      size = null; // not there (yet, or rotated away): keep waiting
    }
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
