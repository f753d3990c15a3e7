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
 */
import { randomBytes } from 'node:crypto';
import { safeStringify } from '../content/safe-json.js';

const NONCE = randomBytes(16).toString('hex');
const PREFIX = `\u0000moa-raw:${NONCE}:`;
// The same placeholder as it appears inside serialized JSON (NUL is escaped).
const SERIALIZED_PREFIX = `"\\u0000moa-raw:${NONCE}:`;

export class RawSlots {
  readonly texts: string[] = [];

  /** Returns the placeholder to put in the record where `jsonText` belongs. */
  hold(jsonText: string): string {
    this.texts.push(jsonText);
    return `${PREFIX}${this.texts.length - 1}`;
  }
}

export function serializeLine(record: unknown, slots?: RawSlots): string {
  const skeleton = safeStringify(record);
  if (!slots || slots.texts.length === 0) return skeleton;
  const pieces: string[] = [];
  let from = 0;
  for (let i = 0; i < slots.texts.length; i++) {
    const marker = `${SERIALIZED_PREFIX}${i}"`;
    const at = skeleton.indexOf(marker, from);
    if (at < 0) continue; // its value was dropped from the record: nothing to splice
    pieces.push(skeleton.slice(from, at), slots.texts[i] as string);
    from = at + marker.length;
  }
  pieces.push(skeleton.slice(from));
  return pieces.join('');
}
