/**
 * Lays a session's cached message bytes out one after the other in shared
 * memory, so that a line's neighbouring messages are one buffer for writev.
 *
 * A long session's line holds its whole conversation once per reference:
 * thousands of messages, each cached as a buffer of its own
 * (`content/message-cache.ts`), more than the 1024 buffers one writev takes.
 * Merging them into a copy for every line (`line-chunks.ts`) copied megabytes
 * per turn and was a fifth of a growing session's main-thread time. A
 * conversation grows by appending, so its messages are met in the same order
 * turn after turn: copied once into the session's memory in that order (the
 * piece then holds a view into it), they lie side by side, and the encoder
 * joins neighbouring views into one buffer without copying
 * (`json-line.ts`). Each message is copied once per session, not once per
 * line. A line still over the limit (messages met in another order) is
 * merged the old way.
 *
 * Memory: a session's memory comes in blocks (64 KiB, doubling up to 1 MiB);
 * a block lives while any message in it is cached. A few messages kept for
 * long (a summary an agent carries while the rest of its history changes)
 * could each pin a block of dead text, so the blocks a session takes are
 * bounded by what its lines hold: past twice the bytes of a line's
 * messages, each counted once (and a few blocks of slack), the session
 * starts afresh, and the messages its lines still use are copied again (once
 * each), which lets the old blocks go. The bound is the whole line's, not
 * its longest list's: with lists that share nothing (each reference its own
 * history) that was below what one line holds, and every line started
 * afresh and copied everything again. Large messages (over `PACKED_MAX_BYTES`) stay where they are: one
 * buffer each anyway.
 */
import type { MessageCache, MessageList, MessagePiece } from '../content/message-cache.js';

/** Messages longer than this (bytes) are left in their own buffer. */
export const PACKED_MAX_BYTES = 64 * 1024;
const FIRST_BLOCK_BYTES = 64 * 1024;
const LARGEST_BLOCK_BYTES = 1024 * 1024;

/** A session's memory: the block being filled, and what the blocks of this round took. */
interface SessionMemory {
  block: Buffer | undefined;
  used: number;
  /** Bytes of blocks taken since the session last started afresh. */
  taken: number;
  /** Which round of blocks messages are placed in: a message placed in an earlier one is copied again. */
  round: number;
  /** Bytes of the session's messages in the line being placed, each counted once as far as a cheap look tells (never fewer). */
  lineBytes: number;
}

export class MessageSlabs {
  /** Per session cache: weak, so a session the cache lets go takes its memory with it. */
  private readonly sessions = new WeakMap<MessageCache, SessionMemory>();
  /** The round each message was looked at in (copied, or left where it is because it is large). */
  private readonly placed = new WeakMap<MessagePiece, number>();

  /**
   * Copies the lists' messages not placed yet into their session's memory,
   * in the order the line has them; pauses (`yield`) after each
   * `bytesPerStep` copied. Serializes a message not serialized yet.
   */
  *place(lists: readonly MessageList[], bytesPerStep: number): Generator<'step', void, undefined> {
    for (const list of lists) this.memoryOf(list.cache).lineBytes = 0;
    const first = lists[0];
    for (const list of lists) {
      const memory = this.memoryOf(list.cache);
      // Lists sharing a conversation end alike: a message the first list has as far from its end is counted there.
      // Counting each list whole would not do either: distinct lists (each reference its own history) hold their sum.
      const shift = first ? first.pieces.length - list.pieces.length : 0;
      for (let i = 0; i < list.pieces.length; i++) {
        const piece = list.pieces[i] as MessagePiece;
        if (list === first || first?.pieces[i + shift] !== piece) memory.lineBytes += piece.bytes(list.cache.replacer).length;
      }
    }
    let sinceYield = 0;
    for (const list of lists) {
      const memory = this.memoryOf(list.cache);
      for (const piece of list.pieces) {
        if (this.placed.get(piece) === memory.round) continue;
        const bytes = piece.bytes(list.cache.replacer);
        if (bytes.length <= PACKED_MAX_BYTES) {
          piece.adoptBytes(this.copy(memory, bytes));
          sinceYield += bytes.length;
        }
        this.placed.set(piece, memory.round);
        if (sinceYield >= bytesPerStep) {
          sinceYield = 0;
          yield 'step';
        }
      }
    }
  }

  /** Bytes of blocks taken for a session since it last started afresh (for tests and diagnostics). */
  takenBy(cache: MessageCache): number {
    return this.sessions.get(cache)?.taken ?? 0;
  }

  private memoryOf(cache: MessageCache): SessionMemory {
    let memory = this.sessions.get(cache);
    if (!memory) {
      memory = { block: undefined, used: 0, taken: 0, round: 0, lineBytes: 0 };
      this.sessions.set(cache, memory);
    }
    return memory;
  }

  private copy(memory: SessionMemory, bytes: Buffer): Buffer {
    if (!memory.block || memory.used + bytes.length > memory.block.length) {
      const size = Math.max(bytes.length, Math.min(LARGEST_BLOCK_BYTES, Math.max(FIRST_BLOCK_BYTES, 2 * (memory.block?.length ?? 0))));
      // Blocks taken past twice what a line holds are mostly dead text pinned by a few live messages: start afresh.
      if (memory.taken + size > 2 * memory.lineBytes + 4 * LARGEST_BLOCK_BYTES) {
        memory.round += 1;
        memory.taken = 0;
      }
      // Not zero-filled: only the bytes copied in are ever read.
      memory.block = Buffer.allocUnsafeSlow(size);
      memory.used = 0;
      memory.taken += size;
    }
    const start = memory.used;
    memory.used += bytes.copy(memory.block, start);
    return memory.block.subarray(start, memory.used);
  }
}

/** Buffers a line would have (skeleton text between lists, each list's messages) before neighbours are joined. */
export function chunksBeforeJoining(lists: readonly MessageList[]): number {
  let chunks = 1;
  for (const list of lists) chunks += list.pieces.length + 1;
  return chunks;
}
