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
 * a block lives while any message in it is cached, so at most one partly
 * used block per cache generation outlives its messages. Large messages
 * (over `PACKED_MAX_BYTES`) stay where they are: one buffer each anyway.
 */
import type { MessageCache, MessageList, MessagePiece } from '../content/message-cache.js';

/** Messages longer than this (bytes) are left in their own buffer. */
export const PACKED_MAX_BYTES = 64 * 1024;
const FIRST_BLOCK_BYTES = 64 * 1024;
const LARGEST_BLOCK_BYTES = 1024 * 1024;

/** The block a session's messages are being copied into. */
interface Block {
  buffer: Buffer;
  used: number;
}

export class MessageSlabs {
  /** Per session cache: weak, so a session the cache lets go takes its memory with it. */
  private readonly blocks = new WeakMap<MessageCache, Block>();
  /** Pieces already looked at (copied, or left where they are because they are large). */
  private readonly placed = new WeakSet<MessagePiece>();

  /**
   * Copies the lists' messages not placed yet into their session's memory,
   * in the order the line has them; pauses (`yield`) after each
   * `bytesPerStep` copied. Serializes a message not serialized yet.
   */
  *place(lists: readonly MessageList[], bytesPerStep: number): Generator<'step', void, undefined> {
    let sinceYield = 0;
    for (const list of lists) {
      for (const piece of list.pieces) {
        if (this.placed.has(piece)) continue;
        this.placed.add(piece);
        const bytes = piece.bytes(list.cache.replacer);
        if (bytes.length > PACKED_MAX_BYTES) continue;
        piece.adoptBytes(this.copy(list.cache, bytes));
        sinceYield += bytes.length;
        if (sinceYield >= bytesPerStep) {
          sinceYield = 0;
          yield 'step';
        }
      }
    }
  }

  private copy(cache: MessageCache, bytes: Buffer): Buffer {
    let block = this.blocks.get(cache);
    if (!block || block.used + bytes.length > block.buffer.length) {
      const size = Math.min(LARGEST_BLOCK_BYTES, Math.max(FIRST_BLOCK_BYTES, 2 * (block?.buffer.length ?? 0)));
      // Not zero-filled: only the bytes copied in are ever read.
      block = { buffer: Buffer.allocUnsafeSlow(Math.max(size, bytes.length)), used: 0 };
      this.blocks.set(cache, block);
    }
    const start = block.used;
    block.used += bytes.copy(block.buffer, start);
    return block.buffer.subarray(start, block.used);
  }
}

/** Buffers a line would have (skeleton text between lists, each list's messages) before neighbours are joined. */
export function chunksBeforeJoining(lists: readonly MessageList[]): number {
  let chunks = 1;
  for (const list of lists) chunks += list.pieces.length + 1;
  return chunks;
}
