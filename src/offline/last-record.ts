/**
 * The time of a file's last valid record, found by reading backwards from the
 * end (prune must not read gigabytes to learn one timestamp). A torn last line
 * is skipped like any unparsable line.
 */
import { openTraceFile, parseRecordLine } from './reader.js';

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

export async function lastRecordTs(file: string): Promise<number | null> {
  const handle = await openTraceFile(file);
  try {
    let position = (await handle.stat()).size;
    let carry = Buffer.alloc(0);
    while (position > 0) {
      const start = Math.max(0, position - CHUNK);
      const chunk = Buffer.allocUnsafe(position - start);
      await handle.read(chunk, 0, chunk.length, start);
      position = start;
      const buf = carry.length > 0 ? Buffer.concat([chunk, carry]) : chunk;
      let lineEnd = buf.length;
      let newline = buf.lastIndexOf(NEWLINE, lineEnd - 1);
      while (newline !== -1) {
        const ts = tsOf(buf.subarray(newline + 1, lineEnd));
        if (ts !== null) return ts;
        lineEnd = newline;
        newline = newline > 0 ? buf.lastIndexOf(NEWLINE, newline - 1) : -1;
      }
      carry = Buffer.from(buf.subarray(0, lineEnd));
    }
    return tsOf(carry);
  } finally {
    await handle.close();
  }
}

function tsOf(line: Buffer): number | null {
  const text = line.toString('utf8').replace(/^\uFEFF/, '').trim();
  if (text === '') return null;
  const parsed = parseRecordLine(text);
  return parsed.ok ? parsed.record.ts : null;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `90m`, `45s`, `2w` → milliseconds; null when not a duration. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text.trim());
  if (!match) return null;
  const ms = Number(match[1]) * (UNITS[match[2] as string] as number);
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}
