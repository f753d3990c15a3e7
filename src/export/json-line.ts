/**
 * Serializes a record in which some values are already JSON text.
 *
 * Message arrays are serialized once, when a call starts (a snapshot: agent
 * loops mutate their arrays afterwards). Re-parsing them to build the line
 * would double the cost of a turn, so a record holds placeholder strings
 * (from `RawSlots.hold`) where that JSON text belongs. The record goes through
 * the native `JSON.stringify` and the placeholders are swapped for the text.
 * A placeholder carries a random per-process nonce behind a NUL, so no string
 * value in a record can be mistaken for one.
 *
 * A line is encoded piece by piece (`encodeLine`), so its size is not bounded
 * by what one string can hold, only by `maxLineBytes`: by default the longest
 * string this runtime can hold, so that every Node reader, ours included, can
 * read the line back. A record over that is not dropped: its longest strings
 * are cut, with a marker saying how much (`fit-json.ts`).
 */
import { constants } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { fitJson } from '../content/fit-json.js';
import { safeStringify, tryParseJson } from '../content/safe-json.js';

const NONCE = randomBytes(16).toString('hex');
// Short enough to be structure for fit-json (never cut): 43 characters plus the slot index.
const PREFIX = `\u0000moa-raw:${NONCE}:`;
// The same placeholder as it appears inside serialized JSON (NUL is escaped).
const SERIALIZED_PREFIX = `"\\u0000moa-raw:${NONCE}:`;

/** Longest line `encodeLine` produces by default, in UTF-8 bytes without the newline. */
export const DEFAULT_MAX_LINE_BYTES = constants.MAX_STRING_LENGTH;
/** Lines up to this many characters are joined and encoded at once (fastest); longer ones piece by piece. */
const JOIN_UP_TO_CHARS = 1 << 20;
/** UTF-8 needs at most 3 bytes per UTF-16 unit. */
const MAX_BYTES_PER_CHAR = 3;

export class RawSlots {
  readonly texts: string[] = [];

  /** Returns the placeholder to put in the record where `jsonText` belongs. */
  hold(jsonText: string): string {
    this.texts.push(jsonText);
    return `${PREFIX}${this.texts.length - 1}`;
  }
}

/** A line ready for `AppendWriter.appendLine`, possibly larger than one string. */
export interface EncodedLine {
  /** The line's UTF-8 bytes in order, without the newline. */
  chunks: Buffer[];
  byteLength: number;
  /** Characters cut from the record's strings so that it fits (0: the record is whole). */
  truncatedChars: number;
}

export interface LineLimits {
  /** Longest line, in UTF-8 bytes without the newline (default DEFAULT_MAX_LINE_BYTES). */
  maxLineBytes?: number;
}

export function encodeLine(record: unknown, slots?: RawSlots, limits: LineLimits = {}): EncodedLine {
  const maxBytes = limits.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const texts = slots?.texts ?? [];
  const skeleton = stringifyOrUndefined(record);
  const whole = skeleton === undefined ? undefined : encodeWithin(splice(skeleton, texts), maxBytes);
  return whole ?? encodeCut(record, texts, maxBytes);
}

/** The record's JSON, or undefined when it is too long for one string (then it is cut). */
function stringifyOrUndefined(record: unknown): string | undefined {
  try {
    return JSON.stringify(record) ?? 'null';
  } catch (err) {
    // The record is plain data built by this package, so the failure is its
    // size ("Invalid string length"); anything else gets the careful serializer.
    return err instanceof RangeError ? undefined : safeStringify(record);
  }
}

/** The skeleton cut at its placeholders, with each slot's JSON text in its place. */
function splice(skeleton: string, texts: readonly string[]): string[] {
  if (texts.length === 0) return [skeleton];
  const pieces: string[] = [];
  let from = 0;
  for (let i = 0; i < texts.length; i++) {
    const marker = `${SERIALIZED_PREFIX}${i}"`;
    const at = skeleton.indexOf(marker, from);
    if (at < 0) continue; // its value was dropped from the record: nothing to splice
    pieces.push(skeleton.slice(from, at), texts[i] as string);
    from = at + marker.length;
  }
  pieces.push(skeleton.slice(from));
  return pieces;
}

/** The pieces as UTF-8, or undefined when they add up to more than `maxBytes` (then nothing big is allocated). */
function encodeWithin(pieces: readonly string[], maxBytes: number): EncodedLine | undefined {
  const chars = totalLength(pieces);
  if (chars <= JOIN_UP_TO_CHARS) {
    const line = Buffer.from(pieces.join(''), 'utf8');
    return line.length <= maxBytes ? { chunks: [line], byteLength: line.length, truncatedChars: 0 } : undefined;
  }
  const fits = chars * MAX_BYTES_PER_CHAR <= maxBytes
    || pieces.reduce((sum, piece) => sum + Buffer.byteLength(piece, 'utf8'), 0) <= maxBytes;
  if (!fits) return undefined;
  // Piece by piece: the whole line never has to be one string.
  const chunks = pieces.map((piece) => Buffer.from(piece, 'utf8'));
  return { chunks, byteLength: totalBytes(chunks), truncatedChars: 0 };
}

/**
 * The record with its longest strings cut so that the line fits. The slot
 * texts are parsed so their strings can be cut too (this path is for records
 * of hundreds of megabytes; its cost does not matter next to losing them).
 */
function encodeCut(record: unknown, texts: readonly string[], maxBytes: number): EncodedLine {
  const slotValues = texts.map((text) => tryParseJson(text) ?? null);
  let fitted = fitJson([record, ...slotValues], maxBytes);
  let omittedChars = 0;
  if (!fitted) {
    // Even empty strings do not fit (millions of messages): each slot becomes one marker.
    fitted = fitJson([record, ...texts.map((text) => [omittedNote(text)])], maxBytes);
    omittedChars = totalLength(texts);
  }
  if (!fitted) throw new RangeError(`a trace record does not fit in ${maxBytes} bytes even with all its content cut`);
  const [skeleton, ...slotTexts] = fitted.texts;
  const line = encodeWithin(splice(skeleton as string, slotTexts), maxBytes);
  if (!line) throw new RangeError(`a cut trace record came out over ${maxBytes} bytes`); // fitJson measured it: unreachable
  return { ...line, truncatedChars: fitted.truncatedChars + omittedChars };
}

function omittedNote(jsonText: string): string {
  return `[moa-otel: ${jsonText.length} characters of JSON omitted: too large for one trace line]`;
}

function totalLength(pieces: readonly string[]): number {
  return pieces.reduce((sum, piece) => sum + piece.length, 0);
}

function totalBytes(chunks: readonly Buffer[]): number {
  return chunks.reduce((sum, chunk) => sum + chunk.length, 0);
}
