/**
 * Brings a line's buffers down to what one writev(2) takes, a bounded piece
 * of copying at a time.
 *
 * A line goes out as its messages' cached buffers, one each, so a long
 * session's line (its whole conversation once per reference) can hold
 * thousands of them; writev takes at most 1024, and splitting the write would
 * let another process's line land inside ours. Neighbours are merged, but
 * only as much as needed: the merged runs are kept under the smallest size
 * that leaves few enough buffers, so large buffers are never copied. All the
 * merged runs are copied into one allocation (thousands of small ones cost
 * several times the copying itself), and the copying is done a slice at a
 * time (a generator: the caller pauses at each `yield`).
 *
 * That allocation is reused from line to line (`ChunkArena`): copying into
 * fresh memory costs the kernel a page fault per 4 KiB, six times the copy
 * itself (measured: 6 MB in 3.7 ms fresh, 0.6 ms reused), and megabytes of
 * new buffers per turn bring the garbage collector's full collections on
 * sooner.
 */
import type { EncodedLine } from './json-line.js';

/** Bytes copied between two pauses. */
export const COPY_BYTES_PER_STEP = 512 * 1024;
/** Largest arena kept between lines; a line needing more gets memory of its own. */
const ARENA_KEPT_BYTES = 16 * 1024 * 1024;
/** An arena unused this long is let go. */
const ARENA_IDLE_MS = 30_000;

/**
 * Memory for merged runs, reused by lines written one after the other: the
 * caller must not take it again while a line using it may still be written.
 */
export class ChunkArena {
  private buffer: Buffer | undefined;
  private lastUsed = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly keptBytes = ARENA_KEPT_BYTES, private readonly idleMs = ARENA_IDLE_MS) {}

  /** At least `bytes` of memory (old contents left in it). */
  take(bytes: number): Buffer {
    if (bytes > this.keptBytes) return Buffer.allocUnsafeSlow(bytes);
    if (!this.buffer || this.buffer.length < bytes) this.buffer = Buffer.allocUnsafeSlow(Math.min(this.keptBytes, Math.max(bytes, 2 * (this.buffer?.length ?? 0))));
    this.lastUsed = Date.now();
    this.releaseWhenIdle();
    return this.buffer;
  }

  /** Bytes held now. */
  get heldBytes(): number {
    return this.buffer?.length ?? 0;
  }

  private releaseWhenIdle(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (Date.now() - this.lastUsed >= this.idleMs) this.buffer = undefined;
      else this.releaseWhenIdle();
    }, this.idleMs);
    this.timer.unref();
  }
}

/** Runs of neighbouring buffers, each merged into one (a run of one is kept as it is). */
type Runs = Array<[from: number, to: number]>;

/** The line with at most `maxChunks` buffers; merged runs go into `arena` when given, else into memory of their own. */
export function* fewerChunks(line: EncodedLine, maxChunks: number, arena?: ChunkArena, bytesPerStep = COPY_BYTES_PER_STEP): Generator<'step', EncodedLine, undefined> {
  const { chunks } = line;
  if (chunks.length <= maxChunks) return line;
  const runs = mergedRuns(chunks, Math.max(1, maxChunks));
  let arenaBytes = 0;
  for (const [from, to] of runs) if (to - from > 1) for (let i = from; i < to; i++) arenaBytes += (chunks[i] as Buffer).length;
  // One allocation for every run; not zero-filled: every byte used is copied over.
  const memory = arena ? arena.take(arenaBytes) : Buffer.allocUnsafeSlow(arenaBytes);
  const merged: Buffer[] = [];
  let at = 0;
  let sinceYield = 0;
  for (const [from, to] of runs) {
    if (to - from === 1) {
      merged.push(chunks[from] as Buffer);
      continue;
    }
    const start = at;
    for (let i = from; i < to; i++) {
      const chunk = chunks[i] as Buffer;
      at += chunk.copy(memory, at);
      sinceYield += chunk.length;
      if (sinceYield >= bytesPerStep) {
        sinceYield = 0;
        yield 'step';
      }
    }
    merged.push(memory.subarray(start, at));
  }
  // The newline after the line is still there only when its last chunk was kept as it is.
  const newlineAfter = line.newlineAfter === true && merged[merged.length - 1] === chunks[chunks.length - 1];
  return { ...line, chunks: merged, newlineAfter };
}

/**
 * Runs of neighbours whose merged size stays under the smallest cap that
 * leaves at most `max` buffers (found by bisection: fewer buffers the larger
 * the cap). A buffer over the cap is a run of its own, and merging stops as
 * soon as the buffers left alone are few enough. The bisection only counts
 * runs (a long session's line has thousands of buffers and the bisection
 * twenty-odd rounds: building the runs each round was most of what a
 * growing session allocated); they are built once, for the cap found.
 */
function mergedRuns(chunks: readonly Buffer[], max: number): Runs {
  let low = 0;
  let high = 0;
  for (const chunk of chunks) high += chunk.length;
  // Under the total, everything may merge: always few enough.
  while (low < high) {
    const cap = Math.floor((low + high) / 2);
    if (runsUnder(chunks, cap, max) <= max) high = cap;
    else low = cap + 1;
  }
  const runs: Runs = [];
  runsUnder(chunks, high, max, runs);
  return runs;
}

/** How many runs a cap gives; with `out`, the runs themselves too. */
function runsUnder(chunks: readonly Buffer[], cap: number, max: number, out?: Runs): number {
  let count = 0;
  let from = 0;
  let size = 0;
  for (let i = 0; i < chunks.length; i++) {
    const length = (chunks[i] as Buffer).length;
    // Closing the open run here and keeping every buffer left alone would be few enough: stop merging.
    const fewEnough = count + 1 + (chunks.length - i) <= max;
    if (i > from && (size + length > cap || fewEnough)) {
      out?.push([from, i]);
      count += 1;
      from = i;
      size = 0;
    }
    size += length;
  }
  out?.push([from, chunks.length]);
  return count + 1;
}
