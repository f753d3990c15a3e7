/**
 * An OTLP JSON line with the values of its `gen_ai.input.messages`
 * attributes cut out before it is decoded, for the commands that never read
 * (most) message lists (the OTLP side of `content-skip.ts`): those values
 * are most of a line's bytes (every call carries the whole conversation,
 * escaped twice), and skipping them costs an indexOf per string instead of
 * decoding and parsing them.
 *
 * Each value cut is replaced by a marker naming it (`CUT_MARK` and its
 * index), so a decoder that does need one list (the aggregator's, for `ls`)
 * can decode that value alone from the line's bytes (`cutValue`).
 *
 * Only the exact form every OTLP JSON serializer writes is cut — the key,
 * then its value as a string: `{"key":"gen_ai.input.messages","value":{"stringValue":"…"}}`.
 * That sequence cannot occur inside a JSON string (its quotes would be
 * escaped there); anything else is left as it is.
 */
import { isAscii } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { closingQuoteByte } from './content-skip.js';

const PREFIX = Buffer.from('"key":"gen_ai.input.messages","value":{"stringValue":"');

/**
 * What a cut value reads as once the line is parsed, followed by its index.
 * A NUL and a nonce: no string a span carries can be mistaken for it.
 */
export const CUT_MARK = `\u0000moa-cut:${randomBytes(9).toString('hex')}:`;
/** The marker as it stands in JSON text (the NUL escaped), before its index. */
const CUT_MARK_JSON = `\\u0000${CUT_MARK.slice(1)}`;

export interface InputMessagesCut {
  /** The line decoded with every value cut replaced by `CUT_MARK` and its index. */
  text: string;
  /** Byte range of each value cut (between its quotes), by index. */
  starts: number[];
  ends: number[];
  /**
   * The text was read as latin1, one character per byte (much cheaper to
   * decode and to parse than UTF-8 with a few non-ASCII characters): a
   * string parsed from it is its UTF-8 decoding once every character above
   * U+007F is read back as a byte (`utf8OfLatin1`). Only when the text holds
   * no `\u` escape of such a character, which would be mistaken for a byte.
   */
  latin1: boolean;
}

/**
 * The line without its input message values. With `check`, each value must
 * be a valid JSON string (no raw control character, no bad escape), as the
 * whole line's parse would demand: null when one is not, so the caller reads
 * the line whole and reports its problem exactly as a full read does.
 */
export function cutInputMessageValues(bytes: Buffer, check: boolean): InputMessagesCut | null {
  const starts: number[] = [];
  const ends: number[] = [];
  for (let at = bytes.indexOf(PREFIX); at >= 0; at = bytes.indexOf(PREFIX, at + 1)) {
    const start = at + PREFIX.length;
    const end = check ? checkedClosingQuote(bytes, start) : closingQuoteByte(bytes, start);
    if (end === REFUSED) return null;
    // A value that does not close (a torn line) stays, for the parser to report.
    if (end < 0) break;
    starts.push(start);
    ends.push(end);
    at = end;
  }
  if (starts.length === 0) return { ...textOf(bytes), starts, ends };
  // The kept ranges and the markers into one buffer, decoded once (no rope of pieces for the parser to flatten).
  // Markers are ASCII: one byte per character, written straight into the buffer.
  let size = bytes.length;
  for (let i = 0; i < starts.length; i++) size += markBytes(i).length - ((ends[i] as number) - (starts[i] as number));
  const out = scratchOf(size);
  let written = 0;
  let from = 0;
  for (let i = 0; i < starts.length; i++) {
    written += bytes.copy(out, written, from, starts[i]);
    written += markBytes(i).copy(out, written);
    from = ends[i] as number;
  }
  written += bytes.copy(out, written, from);
  return { ...textOf(out.subarray(0, written)), starts, ends };
}

/** Each index's marker as JSON text, made once per process up to this index (a line holds a few hundred). */
const KEPT_MARKERS = 4096;
const markers: Buffer[] = [];

function markBytes(index: number): Buffer {
  const kept = markers[index];
  if (kept !== undefined) return kept;
  const made = Buffer.from(`${CUT_MARK_JSON}${index}`, 'latin1');
  if (index < KEPT_MARKERS) markers[index] = made;
  return made;
}

/** What `checkedClosingQuote` returns for a value the caller is to read whole. */
const REFUSED = -2;
/** How every OTLP JSON serializer closes the value: its quote, then the `AnyValue` and the key-value pair. */
const CLOSING = Buffer.from('"}}');

/**
 * The closing quote of a value that is a valid JSON string; -1 when it does
 * not close, REFUSED when it is not valid. The quote is looked for where the
 * exact form has it (followed by `}}`): one search, instead of a step for
 * every escaped quote of the JSON text the value holds. The parser's check
 * of what lies between then also proves no earlier quote closed the value;
 * anything else is REFUSED, and the line read whole.
 */
function checkedClosingQuote(bytes: Buffer, start: number): number {
  for (let at = bytes.indexOf(CLOSING, start); at >= 0; at = bytes.indexOf(CLOSING, at + 1)) {
    let backslashes = 0;
    while (bytes[at - 1 - backslashes] === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return isJsonStringBody(bytes, start, at) ? at : REFUSED;
  }
  return closingQuoteByte(bytes, start) < 0 ? -1 : REFUSED;
}

const ESCAPED_U = Buffer.from('\\u');

/** The text of what is left of a line: as latin1 when that reads back exactly (see `InputMessagesCut.latin1`). */
function textOf(bytes: Buffer): { text: string; latin1: boolean } {
  if (isAscii(bytes)) return { text: bytes.toString('latin1'), latin1: false };
  for (let at = bytes.indexOf(ESCAPED_U); at >= 0; at = bytes.indexOf(ESCAPED_U, at + 2)) {
    // \u0000 to \u007F is ASCII; anything else (or an escaped backslash before a u: the scan does not tell) is read as UTF-8.
    if (!(bytes[at + 2] === ZERO && bytes[at + 3] === ZERO && (bytes[at + 4] as number) >= ZERO && (bytes[at + 4] as number) <= SEVEN)) {
      return { text: bytes.toString('utf8'), latin1: false };
    }
  }
  return { text: bytes.toString('latin1'), latin1: true };
}

const ZERO = 0x30;
const SEVEN = 0x37;

/** Lines up to this size are assembled in one buffer kept from line to line (fresh memory costs a page fault per page). */
const SCRATCH_MAX = 8 * 1024 * 1024;
let scratch = Buffer.alloc(0);

function scratchOf(size: number): Buffer {
  if (size > SCRATCH_MAX) return Buffer.allocUnsafe(size);
  if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.min(SCRATCH_MAX, Math.max(size, scratch.length * 2, 64 * 1024)));
  return scratch;
}

/** The index a cut value's marker names, or -1 when `value` is no marker. */
export function cutIndex(value: unknown): number {
  if (typeof value !== 'string' || value.charCodeAt(0) !== 0 || !value.startsWith(CUT_MARK)) return -1;
  const index = Number(value.slice(CUT_MARK.length));
  return Number.isInteger(index) ? index : -1;
}

/** The string a cut value holds, as the whole line's parse would give it. Throws (a SyntaxError) when it is not a valid JSON string. */
export function cutValue(bytes: Buffer, cut: InputMessagesCut, index: number): string {
  return JSON.parse(bytes.toString('utf8', (cut.starts[index] as number) - 1, (cut.ends[index] as number) + 1)) as string;
}

/** A copy of a cut value as JSON text (its quotes included), unchecked: to be parsed later, if at all. */
export function cutBytes(bytes: Buffer, cut: InputMessagesCut, index: number): Buffer {
  return Buffer.from(bytes.subarray((cut.starts[index] as number) - 1, (cut.ends[index] as number) + 1));
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether the bytes between a string's quotes (at `start - 1` and `end`) are
 * what `JSON.parse` accepts there: no raw control character, every
 * backslash a valid escape. The parser itself checks, on the bytes read as
 * latin1 (each byte one character: a byte of a multi-byte character never
 * looks like a control character or an escape). UTF-8 is not checked:
 * decoding replaces bad sequences, it never fails. False for a range not
 * between quotes.
 */
export function isJsonStringBody(bytes: Buffer, start: number, end: number): boolean {
  if (bytes[start - 1] !== QUOTE || bytes[end] !== QUOTE) return false;
  try {
    JSON.parse(bytes.toString('latin1', start - 1, end + 1));
    return true;
  } catch {
    return false;
  }
}
