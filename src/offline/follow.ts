/**
 * Following a trace file as turns are appended (`tail -f`). The file is
 * polled: only complete lines are consumed, an unfinished last line is
 * re-read on the next poll.
 *
 * The file may be replaced between two polls, and a size check alone misses
 * it whenever the new content has already grown past the old position: the
 * reader would resume in the middle of some line of the new content and lose
 * every turn before it. So the followed file is held open and checked on
 * each poll:
 * - rotated (the name now points at another file, or at none): the rest of
 *   the old file is read through the descriptor still open on it, then the
 *   new file is read from its start;
 * - truncated, or rewritten in place: it is shorter than the position, or
 *   the bytes just before the position are not the ones read there; it is
 *   read again from the start.
 */
import { existsSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
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

/**
 * How many bytes before the position identify the content read so far:
 * enough to hold a record's ids and times (its `ts` leads the line, its
 * trace and span ids close it), which differ between any two turns.
 */
const FINGERPRINT_BYTES = 4096;
const START: ReadPosition = { offset: 0, lines: 0 };

/** The file being followed: held open, so it can be finished after a rotation and recognized on the next poll. */
interface Followed {
  readonly handle: FileHandle;
  readonly dev: number;
  readonly ino: number;
  /** The bytes just before the position, as read there. */
  fingerprint: Buffer;
}

/** Polls until `signal` aborts. */
export async function followFile(file: string, options: FollowOptions): Promise<void> {
  const pollMs = options.pollMs ?? 200;
  // Problems name the followed file, not the descriptor path it was read through.
  const onProblem = options.onProblem && ((p: RecordProblem) => options.onProblem?.({ ...p, file }));
  let position = options.from;
  let current: Followed | undefined;
  const readFrom = async (followed: Followed, from: ReadPosition): Promise<ReadPosition> => {
    // The last record read is handed on only once the fingerprint of what was
    // read is taken: whoever reacts to it (rotating, truncating) then acts
    // after it, and the next poll compares against the content they saw. One
    // record is held back, never the whole read.
    let held: ReadRecord | undefined;
    const to = await readAppended(descriptorPath(followed.handle) ?? file, from, (record) => {
      if (held) options.onRecord(held);
      held = record;
    }, onProblem);
    followed.fingerprint = await bytesBefore(followed.handle, to.offset);
    if (held) options.onRecord(held);
    return to;
  };
  try {
    while (!options.signal.aborted) {
      const info = await stat(file).catch(() => null);
      if (current && (info === null || info.ino !== current.ino || info.dev !== current.dev)) {
        // Rotated: what was appended before the rename is still in the old file.
        if (descriptorPath(current.handle) !== undefined) await readFrom(current, position).catch(() => undefined);
        await current.handle.close();
        current = undefined;
        position = START;
      }
      if (info !== null) {
        current ??= await openFollowed(file, position);
        if (current && info.ino === current.ino) {
          if (info.size < position.offset || !(await sameBytesBefore(current, position.offset))) position = START;
          if (info.size > position.offset) position = await readFrom(current, position);
        }
      }
      try {
        await sleep(pollMs, undefined, { signal: options.signal });
      } catch {
        break; // aborted
      }
    }
  } finally {
    await current?.handle.close();
  }
}

/** Opens the file now at `file`; undefined when it is gone again. */
async function openFollowed(file: string, position: ReadPosition): Promise<Followed | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const info = await handle.stat();
    return { handle, dev: info.dev, ino: info.ino, fingerprint: await bytesBefore(handle, position.offset) };
  } catch {
    await handle.close();
    return undefined;
  }
}

/** Whether the bytes before `offset` are still the ones read there (not so after a truncate-and-regrow). */
async function sameBytesBefore(followed: Followed, offset: number): Promise<boolean> {
  if (offset === 0) return true;
  return (await bytesBefore(followed.handle, offset)).equals(followed.fingerprint);
}

async function bytesBefore(handle: FileHandle, offset: number): Promise<Buffer> {
  const start = Math.max(0, offset - FINGERPRINT_BYTES);
  const buffer = Buffer.alloc(offset - start);
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
  return buffer.subarray(0, bytesRead);
}

/**
 * A path that opens the very file `handle` has open, whatever its name is
 * now (Linux's /proc/self/fd); undefined elsewhere, where the file is read
 * by its name and a rotation between stat and read is caught on the next poll.
 */
function descriptorPath(handle: FileHandle): string | undefined {
  const candidate = `/proc/self/fd/${handle.fd}`;
  return PROC_FD && existsSync(candidate) ? candidate : undefined;
}

const PROC_FD = existsSync('/proc/self/fd');
