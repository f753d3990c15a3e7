/**
 * The time of a file's last valid record, found by reading backwards from the
 * end (prune must not read gigabytes to learn one timestamp). A line counts
 * as the reader counts it: a torn or unparsable line is skipped, a record
 * glued behind a torn fragment is read, and a line longer than `maxLineBytes`
 * is skipped without being held (its parts are dropped as they are read).
 */
import { DEFAULT_MAX_LINE_BYTES } from './line-splitter.js';
import { openTraceFile, recordOfLine } from './reader.js';
import { readInput } from './inputs.js';
import { detectCompression } from './trace-format.js';

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

export async function lastRecordTs(file: string, maxLineBytes = DEFAULT_MAX_LINE_BYTES): Promise<number | null> {
  const handle = await openTraceFile(file);
  const line = new BackwardLine(maxLineBytes);
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, head.length, 0);
    // Compressed data cannot be read backwards: read it through, keep the last record's time.
    if (detectCompression(head) !== null) return await lastTsForward(file, maxLineBytes);
    let position = (await handle.stat()).size;
    while (position > 0) {
      const start = Math.max(0, position - CHUNK);
      const chunk = Buffer.allocUnsafe(position - start);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, start);
      if (bytesRead !== chunk.length) return null; // truncated while we read: no record to trust
      position = start;
      let lineEnd = chunk.length;
      for (let newline = chunk.lastIndexOf(NEWLINE, lineEnd - 1); newline !== -1; newline = newline > 0 ? chunk.lastIndexOf(NEWLINE, newline - 1) : -1) {
        line.prepend(chunk.subarray(newline + 1, lineEnd));
        const ts = line.takeTs();
        if (ts !== null) return ts;
        lineEnd = newline;
      }
      line.prepend(chunk.subarray(0, lineEnd));
    }
    return line.takeTs();
  } finally {
    await handle.close();
  }
}

async function lastTsForward(file: string, maxLineBytes: number): Promise<number | null> {
  let ts: number | null = null;
  for await (const { record } of readInput({ file, found: true }, { maxLineBytes })) ts = record.ts;
  return ts;
}

/** The line being read backwards: its parts (last first), or only its length once it is too long to parse. */
class BackwardLine {
  private parts: Buffer[] = [];
  private bytes = 0;
  private tooLong = false;

  constructor(private readonly maxBytes: number) {}

  prepend(part: Buffer): void {
    this.bytes += part.length;
    if (this.bytes > this.maxBytes) {
      this.tooLong = true;
      this.parts = [];
    } else if (part.length > 0) {
      this.parts.push(part);
    }
  }

  /** The line's record time (null for a blank, bad or too long line); starts the next line. */
  takeTs(): number | null {
    const parts = this.parts.reverse();
    const tooLong = this.tooLong;
    this.parts = [];
    this.bytes = 0;
    this.tooLong = false;
    if (tooLong || parts.length === 0) return null;
    const text = Buffer.concat(parts).toString('utf8').replace(/^\uFEFF/, '');
    return text.trim() === '' ? null : recordOfLine(text)?.ts ?? null;
  }
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `90m`, `45s`, `2w` → milliseconds; null when not a duration. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text.trim());
  if (!match) return null;
  const ms = Number(match[1]) * (UNITS[match[2] as string] as number);
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}
