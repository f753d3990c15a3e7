/**
 * Serializes one large message a slice at a time.
 *
 * A message is serialized in one step of the sliced queue, which is fine
 * until one message is itself megabytes (a tool's output, a pasted file):
 * `JSON.stringify` and the UTF-8 encoding of 10 MB are one block of tens of
 * milliseconds. Its snapshot (`content/json-snapshot.ts`: plain arrays and
 * objects and primitives, boxed ones already unboxed; getters already read
 * and `toJSON` already called) is walked instead: small values go through the native
 * `JSON.stringify` as they are, long strings are cut into slices serialized
 * one per step (never between the two halves of a surrogate pair, so the
 * escaping is the same), then the text is encoded a slice per step (one
 * walk over each slice) and the pieces copied into one buffer. The bytes are those of `JSON.stringify(copy)`
 * (test/export/sliced-json.test.ts checks it on adversarial values).
 */
import type { MessagePiece } from '../content/message-cache.js';
import { utf8Scratch } from '../content/utf8-scratch.js';

/** Characters of text serialized or encoded between two pauses. */
export const SLICE_CHARS = 128 * 1024;
/** Messages with at least this many characters are serialized in slices (smaller ones in one step). */
export const SLICED_MESSAGE_CHARS = 256 * 1024;
/**
 * And at most this many: its JSON (six characters per character at worst)
 * still fits in one string, so `JSON.stringify` would give it whole, as the
 * slices do. A longer message takes the one-step path, which cuts it.
 */
export const SLICED_MESSAGE_MAX_CHARS = 64 * 1024 * 1024;

/** The UTF-8 bytes of `,` + `JSON.stringify(copy)`, a slice of work at a time; undefined if `copy` has no JSON form. */
export function* slicedJsonBytes(copy: unknown, sliceChars = SLICE_CHARS): Generator<'step', Buffer | undefined, undefined> {
  const texts: string[] = [','];
  let pending = 0;
  // Each piece of text produced counts towards the slice; a pause once it is full.
  const emit = function* (text: string): Generator<'step', void, undefined> {
    texts.push(text);
    pending += text.length;
    if (pending >= sliceChars) {
      pending = 0;
      yield 'step';
    }
  };
  const ok = yield* value(copy, emit, sliceChars);
  if (!ok) return undefined;
  // Encoded a slice of text per step, each in one walk over it (`utf8-scratch.ts`: measuring first walked it
  // twice), then copied together. Slices end between texts, so never inside a surrogate pair.
  const parts: Buffer[] = [];
  let bytes = 0;
  for (let from = 0; from < texts.length;) {
    let to = from;
    let chars = 0;
    while (to < texts.length && chars < sliceChars) chars += (texts[to++] as string).length;
    const part = utf8Scratch.encode(to - from === 1 ? texts[from] as string : texts.slice(from, to).join(''));
    parts.push(part);
    bytes += part.length;
    from = to;
    yield 'step';
  }
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  let copied = 0;
  for (const part of parts) {
    at += part.copy(out, at);
    copied += part.length;
    if (copied >= COPY_BYTES_PER_STEP) {
      copied = 0;
      yield 'step';
    }
  }
  return out;
}

/** Bytes copied together between two pauses (a copy is far cheaper than encoding). */
const COPY_BYTES_PER_STEP = 1024 * 1024;

type Emit = (text: string) => Generator<'step', void, undefined>;

/** Whether a value is left out of an object (and is `null` in an array), as `JSON.stringify` does. */
function omitted(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/** Emits the JSON of `v` (not omitted); false when it has none. */
function* value(v: unknown, emit: Emit, sliceChars: number): Generator<'step', boolean, undefined> {
  if (typeof v === 'string') {
    if (v.length <= sliceChars) yield* emit(JSON.stringify(v));
    else yield* longString(v, emit, sliceChars);
    return true;
  }
  if (v === null || typeof v !== 'object') {
    const text = JSON.stringify(v) as string | undefined;
    if (text === undefined) return false;
    yield* emit(text);
    return true;
  }
  if (Array.isArray(v)) {
    yield* emit('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) yield* emit(',');
      const item: unknown = v[i];
      if (omitted(item) || !(yield* value(item, emit, sliceChars))) yield* emit('null');
    }
    yield* emit(']');
    return true;
  }
  yield* emit('{');
  let first = true;
  for (const key of Object.keys(v)) {
    const item = (v as Record<string, unknown>)[key];
    if (omitted(item)) continue;
    yield* emit(`${first ? '' : ','}${JSON.stringify(key)}:`);
    first = false;
    yield* value(item, emit, sliceChars);
  }
  yield* emit('}');
  return true;
}

/** A long string's JSON in slices, each cut outside a surrogate pair so both halves are escaped (or not) together. */
function* longString(text: string, emit: Emit, sliceChars: number): Generator<'step', void, undefined> {
  yield* emit('"');
  for (let from = 0; from < text.length;) {
    let to = Math.min(text.length, from + sliceChars);
    // Never between the halves of a pair: cut before it, or after it when it opens the slice.
    if (to < text.length && isHighSurrogate(text.charCodeAt(to - 1)) && isLowSurrogate(text.charCodeAt(to))) to += to - 1 > from ? -1 : 1;
    const json = JSON.stringify(text.slice(from, to));
    yield* emit(json.slice(1, -1));
    from = to;
  }
  yield* emit('"');
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Serializes a large message's piece in slices (no redaction replacer: one applies to whole values at once). */
export function* serializeInSlices(piece: MessagePiece): Generator<'step', void, undefined> {
  if (piece.serialized) return; // an earlier line did it since this one was queued
  const bytes = yield* slicedJsonBytes(piece.copy);
  if (bytes && !piece.serialized) piece.adoptBytes(bytes);
}
