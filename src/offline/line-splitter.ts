/**
 * Splits a byte stream into lines without ever holding more than the current
 * line: complete lines are handed out as they are found, only the unfinished
 * tail is kept (as a list of chunk slices, concatenated once when its newline
 * arrives). Memory is bounded by the largest line, never by the file, and by
 * `maxLineBytes` even then: a longer line is not kept at all, only measured,
 * and handed out as `tooLongBytes` so the reader can report it and go on.
 */
import { constants } from 'node:buffer';

export interface SplitLine {
  /** The line's bytes, without the newline (and without a trailing CR); empty when the line was too long. */
  bytes: Buffer;
  /** Byte offset just past this line's newline. */
  endOffset: number;
  /** Set when the line was longer than `maxLineBytes`: its length, newline excluded. */
  tooLongBytes?: number;
}

/** Lines longer than one string can hold cannot be decoded by any JS reader. */
export const DEFAULT_MAX_LINE_BYTES = constants.MAX_STRING_LENGTH;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const NOTHING = Buffer.alloc(0);

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes of the current line dropped because it is already too long. */
  private skippedBytes = 0;
  private offset: number;

  constructor(startOffset = 0, private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES) {
    this.offset = startOffset;
  }

  /** Bytes held for the unfinished last line. */
  get pendingLength(): number {
    return this.pendingBytes;
  }

  /** Feeds one chunk; calls `onLine` for every line it completes. */
  push(chunk: Buffer, onLine: (line: SplitLine) => void): void {
    let start = 0;
    let newline = chunk.indexOf(NEWLINE, start);
    while (newline !== -1) {
      onLine(this.complete(chunk.subarray(start, newline), 1));
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) this.hold(chunk.subarray(start));
  }

  /** The unterminated tail at end of input (a torn last line), if any. */
  finish(): SplitLine | null {
    if (this.pendingBytes === 0 && this.skippedBytes === 0) return null;
    return this.complete(NOTHING, 0);
  }

  /** Ends the current line with `last`, its final part, followed by `newlineBytes` (1, or 0 at end of input). */
  private complete(last: Buffer, newlineBytes: number): SplitLine {
    const length = this.skippedBytes + this.pendingBytes + last.length;
    this.offset += length + newlineBytes;
    if (this.skippedBytes > 0 || length > this.maxLineBytes) {
      this.drop();
      return { bytes: NOTHING, endOffset: this.offset, tooLongBytes: length };
    }
    let bytes = last;
    if (this.pending.length > 0) {
      this.pending.push(last);
      bytes = Buffer.concat(this.pending, length);
      this.drop();
    }
    return { bytes: trimCarriageReturn(bytes), endOffset: this.offset };
  }

  /** Keeps the start of an unfinished line, unless it is already too long. */
  private hold(part: Buffer): void {
    if (this.skippedBytes > 0 || this.pendingBytes + part.length > this.maxLineBytes) {
      this.skippedBytes += this.pendingBytes + part.length;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    // Copy: the caller may reuse its read buffer.
    const copy = Buffer.from(part);
    this.pending.push(copy);
    this.pendingBytes += copy.length;
  }

  private drop(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.skippedBytes = 0;
  }
}

function trimCarriageReturn(bytes: Buffer): Buffer {
  return bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN ? bytes.subarray(0, bytes.length - 1) : bytes;
}
