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
 * Message arrays are held as lists of pieces (`RawSlots.holdMessages`): each
 * message's UTF-8 bytes, made once per session (`content/message-cache.ts`).
 * The line is the skeleton's fragments and those bytes in order, handed to
 * one `writev` as they are: a message already serialized for an earlier call
 * or turn is neither serialized nor encoded nor copied again.
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
import type { MessageList } from '../content/message-cache.js';
import { safeStringify, tryParseJson } from '../content/safe-json.js';

const NONCE = randomBytes(16).toString('hex');
// Short enough to be structure for fit-json (never cut): 43 characters plus the slot index.
const PREFIX = `\u0000moa-raw:${NONCE}:`;
// The same placeholder as it appears inside serialized JSON (NUL is escaped),
// without its opening quote: see `markerAfterQuote`.
const SERIALIZED_PREFIX = `\\u0000moa-raw:${NONCE}:`;
/** Each slot index's placeholder, made once (a record holds several, every line). */
const placeholders: string[] = [];
/** Each slot's placeholder as serialized, from the escaped NUL to its closing quote (made once per index). */
const serializedMarkers: string[] = [];

/** Longest line `encodeLine` produces by default, in UTF-8 bytes without the newline. */
export const DEFAULT_MAX_LINE_BYTES = constants.MAX_STRING_LENGTH;
/** Lines up to this many characters are joined and encoded at once (fastest); longer ones piece by piece. */
const JOIN_UP_TO_CHARS = 1 << 20;

/** What a placeholder stands for: JSON text, or a list of messages serialized once each. */
export type SlotValue = string | MessageList;

/** The message lists of slots that hold none (most small turns' records): one shared empty list, never written to. */
const NO_LISTS: readonly MessageList[] = Object.freeze([]);

export class RawSlots {
  readonly values: SlotValue[] = [];
  private lists = 0;
  /** `messageLists` as last asked (the sink asks for it more than once per line). */
  private listsSeen: readonly MessageList[] | undefined;

  /** Returns the placeholder to put in the record where `jsonText` belongs. */
  hold(jsonText: string): string {
    return this.placeholder(jsonText);
  }

  /** Returns the placeholder to put in the record where the JSON array of these messages belongs. */
  holdMessages(list: MessageList): string {
    this.lists += 1;
    return this.placeholder(list);
  }

  /** Each slot as JSON text (for the rare paths that need text: cutting a record to fit). */
  get texts(): string[] {
    return this.values.map(slotText);
  }

  /** The message lists held, in order. */
  get messageLists(): readonly MessageList[] {
    if (this.lists === 0) return NO_LISTS;
    return this.listsSeen ??= this.values.filter((v): v is MessageList => typeof v !== 'string');
  }

  private placeholder(value: SlotValue): string {
    this.listsSeen = undefined;
    this.values.push(value);
    const index = this.values.length - 1;
    return placeholders[index] ??= `${PREFIX}${index}`;
  }
}

export function slotText(value: SlotValue): string {
  return typeof value === 'string' ? value : value.cache.arrayJson(value);
}

/** A line ready for `AppendWriter.appendLine`, possibly larger than one string. */
export interface EncodedLine {
  /** The line's UTF-8 bytes in order, without the newline. */
  chunks: Buffer[];
  byteLength: number;
  /** Characters cut from the record's strings so that it fits (0: the record is whole). */
  truncatedChars: number;
  /**
   * Set when the byte right after the last chunk, in the same memory, is a
   * newline the writer may send with it: the line goes to writev as one
   * buffer, not two (a small line's, encoded into a scratch buffer).
   */
  newlineAfter?: boolean;
}

export interface LineLimits {
  /** Longest line, in UTF-8 bytes without the newline (default DEFAULT_MAX_LINE_BYTES). */
  maxLineBytes?: number;
  /**
   * Encode the line's text into this buffer, not into new ones: for a
   * caller that writes the line before it encodes the next one (the line's
   * chunks are views into it until then).
   */
  scratch?: LineScratch;
}

/** Scratch space that is worth keeping for lines up to this many bytes; longer ones get buffers of their own. */
const SCRATCH_MAX_BYTES = 1 << 20;

/**
 * One reusable buffer for the text of lines written one at a time: a small
 * line's text is encoded straight into it (no joined string, no new buffer
 * for the collector to reclaim).
 */
export class LineScratch {
  private buffer = Buffer.allocUnsafe(0);
  /**
   * The message pieces the line being encoded has from their text
   * (`MessagePiece.writeText`), and where each one's JSON is in the buffer:
   * a piece met again in the same line (the conversation under every
   * reference) is copied from there, not encoded again.
   */
  readonly written: MessagePieceLike[] = [];
  readonly writtenAt: number[] = [];
  readonly writtenEnd: number[] = [];

  /** A buffer of at least `bytes` (its old contents gone), or undefined when that is more than is worth keeping. */
  take(bytes: number): Buffer | undefined {
    if (bytes > SCRATCH_MAX_BYTES) return undefined;
    if (this.buffer.length < bytes) this.buffer = Buffer.allocUnsafe(Math.min(SCRATCH_MAX_BYTES, Math.max(bytes, 2 * this.buffer.length, 16 * 1024)));
    this.written.length = 0;
    return this.buffer;
  }

  /** Where this line has `piece`'s JSON already (an index for `writtenAt`/`writtenEnd`), or -1. */
  find(piece: MessagePieceLike): number {
    const written = this.written;
    for (let i = 0; i < written.length; i++) if (written[i] === piece) return i;
    return -1;
  }

  /** Remembers where `piece`'s JSON is (only the first few pieces of a line: the search stays short). */
  remember(piece: MessagePieceLike, at: number, end: number): void {
    const i = this.written.length;
    if (i >= REMEMBERED_PIECES) return;
    this.written[i] = piece;
    this.writtenAt[i] = at;
    this.writtenEnd[i] = end;
  }
}

/** Pieces a line remembers the place of (a small turn's line has a dozen, half of them repeats). */
const REMEMBERED_PIECES = 32;

export function encodeLine(record: unknown, slots?: RawSlots, limits: LineLimits = {}): EncodedLine {
  const maxBytes = limits.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const values = slots?.values ?? [];
  const skeleton = stringifyOrUndefined(record);
  let whole: EncodedLine | undefined;
  if (skeleton !== undefined) {
    const pieces = splice(skeleton, values);
    whole = (limits.scratch && encodeInto(pieces, limits.scratch, maxBytes)) || encodeWithin(pieces, maxBytes);
  }
  return whole ?? encodeCut(record, values.map(slotText), maxBytes);
}

/** UTF-8 takes at most three bytes per UTF-16 unit (a surrogate pair: four bytes for two units). */
const MAX_UTF8_PER_UNIT = 3;
/**
 * Message bytes up to this many per line are copied next to the line's text
 * in the scratch buffer: a small line goes to writev as one buffer, not one
 * per message piece (each costs a view, and writev time: 14 buffers of a
 * 10.8 KB line cost 0.9 µs more than one). Beyond, they go as they are:
 * a long conversation is never copied per line.
 */
const COPIED_MESSAGE_BYTES = 16 * 1024;

/**
 * The pieces encoded with their text in `scratch` (message bytes cached per
 * session go in as they are); undefined when the text is too long for it or
 * the line is over `maxBytes` (the caller then takes the general way).
 */
function encodeInto(pieces: ReadonlyArray<string | SlotValue>, scratch: LineScratch, maxBytes: number): EncodedLine | undefined {
  let units = 0;
  for (const piece of pieces) units += typeof piece === 'string' ? piece.length : 2;
  // One byte more: the newline after the line.
  const buffer = scratch.take(units * MAX_UTF8_PER_UNIT + COPIED_MESSAGE_BYTES + 1);
  if (!buffer) return undefined;
  const chunks: Buffer[] = [];
  let byteLength = 0;
  // The text since the last list, not yet cut off as a chunk.
  let start = 0;
  let at = 0;
  let copyLeft = COPIED_MESSAGE_BYTES;
  for (const piece of pieces) {
    if (typeof piece === 'string') {
      at += buffer.write(piece, at, 'utf8');
      continue;
    }
    if (piece.pieces.length === 0) {
      at += buffer.write('[]', at, 'utf8');
      continue;
    }
    buffer[at++] = 0x5b; // [
    // Within the bound as written from text; else, as before, exactly (their bytes kept) before it is given up.
    if (copiedBytesBound(piece, scratch, false) <= copyLeft || copiedBytesBound(piece, scratch, true) <= copyLeft) {
      const copied = writeMessages(piece, buffer, at, scratch);
      at += copied;
      copyLeft -= copied;
      buffer[at++] = 0x5d; // ]
      continue;
    }
    chunks.push(buffer.subarray(start, at));
    byteLength += at - start;
    byteLength += pushMessageBytes(piece, chunks);
    start = at;
    buffer[at++] = 0x5d; // ]
  }
  if (at > start) chunks.push(buffer.subarray(start, at));
  byteLength += at - start;
  if (byteLength > maxBytes) return undefined;
  // The newline goes right after the text, so that the writer can send both as one buffer.
  const newlineAfter = at > start;
  if (newlineAfter) buffer[at] = 0x0a;
  return { chunks, byteLength, truncatedChars: 0, newlineAfter };
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

/** The skeleton cut at its placeholders, with each slot's value in its place. */
export function splice<T extends SlotValue>(skeleton: string, values: readonly T[]): Array<string | T> {
  if (values.length === 0) return [skeleton];
  const pieces: Array<string | T> = [];
  let from = 0;
  for (let i = 0; i < values.length; i++) {
    const marker = serializedMarkers[i] ??= `${SERIALIZED_PREFIX}${i}"`;
    const at = markerAfterQuote(skeleton, marker, from);
    if (at < 0) continue; // its value was dropped from the record: nothing to splice
    pieces.push(skeleton.slice(from, at - 1), values[i] as T);
    from = at + marker.length;
  }
  pieces.push(skeleton.slice(from));
  return pieces;
}

/**
 * Where `marker` first stands right after a `"` at or after `from` (-1: nowhere),
 * which is where `"` + marker would be found. The search leaves the quote out:
 * a pattern starting with `"` makes V8's string search give up its fast
 * scan in JSON, where quotes are everywhere, and build tables for every call
 * (1.8 µs for a turn's four placeholders); one starting with a backslash,
 * rare in JSON text, is found by a plain scan (0.3 µs).
 */
function markerAfterQuote(skeleton: string, marker: string, from: number): number {
  for (let at = skeleton.indexOf(marker, from + 1); at >= 0; at = skeleton.indexOf(marker, at + 1)) {
    if (skeleton.charCodeAt(at - 1) === 0x22) return at;
  }
  return -1;
}

/** The pieces as UTF-8, or undefined when they add up to more than `maxBytes`. */
function encodeWithin(pieces: ReadonlyArray<string | SlotValue>, maxBytes: number): EncodedLine | undefined {
  const chunks: Buffer[] = [];
  let byteLength = 0;
  let text: string[] = [];
  let textChars = 0;
  const flushText = () => {
    if (textChars > 0) {
      const chunk = Buffer.from(text.length === 1 ? text[0] as string : text.join(''), 'utf8');
      chunks.push(chunk);
      byteLength += chunk.length;
    }
    text = [];
    textChars = 0;
  };
  const addText = (piece: string) => {
    // Text is joined and encoded at once up to a size; beyond, piece by piece, so the line never has to be one string.
    if (textChars + piece.length > JOIN_UP_TO_CHARS) flushText();
    text.push(piece);
    textChars += piece.length;
  };
  for (const piece of pieces) {
    if (typeof piece === 'string') {
      addText(piece);
      continue;
    }
    if (piece.pieces.length === 0) {
      addText('[]');
      continue;
    }
    addText('[');
    flushText();
    byteLength += pushMessageBytes(piece, chunks);
    addText(']');
    // Measured as it grows: a line over the limit stops here, before more is encoded.
    if (byteLength > maxBytes) return undefined;
  }
  flushText();
  return byteLength <= maxBytes ? { chunks, byteLength, truncatedChars: 0 } : undefined;
}

type MessagePieceLike = MessageList['pieces'][number];

/**
 * At most how many bytes `writeMessages` writes for a list (without the
 * brackets): the bytes kept, the length of a piece this line has already,
 * or the bound of one written from its text (`exact`: its bytes, made and
 * kept now).
 */
function copiedBytesBound(list: MessageList, scratch: LineScratch, exact: boolean): number {
  let bytes = 0;
  for (const piece of list.pieces as readonly MessagePieceLike[]) {
    const found = scratch.find(piece);
    if (found >= 0) {
      bytes += 1 + (scratch.writtenEnd[found] as number) - (scratch.writtenAt[found] as number);
      continue;
    }
    bytes += (exact ? undefined : piece.textBytesBound()) ?? piece.bytes(list.cache.replacer).length;
  }
  return bytes;
}

/**
 * Writes a list's messages (without the brackets) into `buffer` at `at`,
 * joined by commas; returns the bytes written. A piece this line has
 * already is copied from there, one with bytes kept is copied from them,
 * and one first met here is encoded from its text.
 */
function writeMessages(list: MessageList, buffer: Buffer, at: number, scratch: LineScratch): number {
  const from = at;
  const pieces = list.pieces as readonly MessagePieceLike[];
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] as MessagePieceLike;
    const first = i === 0;
    const found = scratch.find(piece);
    if (found >= 0) {
      if (!first) buffer[at++] = 0x2c; // ,
      const jsonAt = scratch.writtenAt[found] as number;
      const jsonEnd = scratch.writtenEnd[found] as number;
      buffer.copyWithin(at, jsonAt, jsonEnd);
      at += jsonEnd - jsonAt;
      continue;
    }
    const json = first ? at : at + 1;
    if (piece.textBytesBound() !== undefined) at += piece.writeText(buffer, at, first);
    // Each piece's bytes start with the comma that joins it to the previous element.
    else at += piece.bytes(list.cache.replacer).copy(buffer, at, first ? 1 : 0);
    scratch.remember(piece, json, at);
  }
  return at - from;
}

/**
 * A list's messages as cached UTF-8 pieces, appended to `chunks` (the
 * brackets are the caller's); returns their bytes. Pieces that lie side by
 * side in memory (a session's messages copied in order, `message-slab.ts`)
 * go in as one view: one writev buffer for a run of the conversation.
 */
function pushMessageBytes(list: MessageList, chunks: Buffer[]): number {
  let byteLength = 0;
  let run: Buffer | undefined;
  let runBytes = 0;
  const endRun = () => {
    if (!run) return;
    chunks.push(runBytes === run.length ? run : Buffer.from(run.buffer, run.byteOffset, runBytes));
    byteLength += runBytes;
  };
  for (let i = 0; i < list.pieces.length; i++) {
    const bytes = (list.pieces[i] as MessagePieceLike).bytes(list.cache.replacer);
    // Each piece starts with the comma that joins it to the previous element.
    const chunk = i === 0 ? bytes.subarray(1) : bytes;
    if (run && chunk.buffer === run.buffer && chunk.byteOffset === run.byteOffset + runBytes) {
      runBytes += chunk.length;
      continue;
    }
    endRun();
    run = chunk;
    runBytes = chunk.length;
  }
  endRun();
  return byteLength;
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
  const line = encodeWithin(splice(skeleton as string, slotTexts as string[]), maxBytes);
  if (!line) throw new RangeError(`a cut trace record came out over ${maxBytes} bytes`); // fitJson measured it: unreachable
  return { ...line, truncatedChars: fitted.truncatedChars + omittedChars };
}

function omittedNote(jsonText: string): string {
  return `[moa-otel: ${jsonText.length} characters of JSON omitted: too large for one trace line]`;
}

function totalLength(pieces: readonly string[]): number {
  return pieces.reduce((sum, piece) => sum + piece.length, 0);
}
