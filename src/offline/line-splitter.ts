/**
 * Splits a byte stream into lines without ever holding more than the current
 * line: complete lines are handed out as they are found, only the unfinished
 * tail is kept (as a list of chunk slices, concatenated once when its newline
 * arrives). Memory is bounded by the largest line, never by the file.
 */

export interface SplitLine {
  /** The line's bytes, without the newline (and without a trailing CR). */
  bytes: Buffer;
  /** Byte offset just past this line's newline. */
  endOffset: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private offset: number;

  constructor(startOffset = 0) {
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
      let bytes = chunk.subarray(start, newline);
      this.offset += newline - start + 1;
      if (this.pending.length > 0) {
        this.offset += this.pendingBytes;
        this.pending.push(bytes);
        bytes = Buffer.concat(this.pending, this.pendingBytes + bytes.length);
        this.pending = [];
        this.pendingBytes = 0;
      }
      onLine({ bytes: trimCarriageReturn(bytes), endOffset: this.offset });
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) {
      // Copy: the caller may reuse its read buffer.
      const rest = Buffer.from(chunk.subarray(start));
      this.pending.push(rest);
      this.pendingBytes += rest.length;
    }
  }

  /** The unterminated tail at end of input (a torn last line), if any. */
  finish(): SplitLine | null {
    if (this.pendingBytes === 0) return null;
    const bytes = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.offset += bytes.length;
    return { bytes: trimCarriageReturn(bytes), endOffset: this.offset };
  }
}

function trimCarriageReturn(bytes: Buffer): Buffer {
  return bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN ? bytes.subarray(0, bytes.length - 1) : bytes;
}
