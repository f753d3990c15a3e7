/**
 * A turn record straight from its spans, as the value a reader would get by
 * parsing the line the JSONL writer writes for them — without writing that
 * line and parsing it back. `buildTurnRecord` leaves pre-serialized JSON
 * (message lists, tool calls, exact costs) in slots; here each slot's text
 * is parsed on its own and the rest of the record is copied the way
 * `JSON.stringify` then `JSON.parse` would copy it (undefined dropped,
 * non-finite numbers as null, `-0` as `0`, `toJSON` honoured).
 */
import { randomBytes } from 'node:crypto';
import { jsonNestingExceeds } from '../content/json-nesting.js';
import type { MessageList } from '../content/message-cache.js';
import { RawSlots, slotText, type SlotValue } from '../export/json-line.js';
import { buildTurnRecord } from '../export/turn-record.js';
import type { Iteration } from '../export/turn-assembler.js';
import { CAPTURE_ALL } from '../trace/content-policy.js';
import { MAX_RECORD_DEPTH } from './reader.js';

// A NUL and a nonce: no string a span carries can be mistaken for a slot.
const MARK = `\u0000moa-slot:${randomBytes(12).toString('hex')}:`;
/** Levels above a slot in a record (record, references, a reference, its value). */
const SLOT_DEPTH = 4;

export class SlotTooDeepError extends Error {
  override readonly name = 'SlotTooDeepError';
}

/** Slots whose placeholders this module recognizes, holding the JSON text as given. */
class ValueSlots extends RawSlots {
  readonly held: SlotValue[] = [];

  override hold(jsonText: string): string {
    return this.mark(jsonText);
  }

  override holdMessages(list: MessageList): string {
    return this.mark(list);
  }

  private mark(value: SlotValue): string {
    this.held.push(value);
    return `${MARK}${this.held.length - 1}`;
  }
}

/**
 * The JSON value of the record `buildTurnRecord` makes of `iteration` (with
 * content as captured, `now` for a root that never ended). Throws
 * `SlotTooDeepError` when a slot nests deeper than a record may, as the
 * reader refuses such a line.
 */
export function recordValueOfSpans(iteration: Iteration, now: number): Record<string, unknown> {
  const slots = new ValueSlots();
  const record = buildTurnRecord(iteration, { slots, policy: CAPTURE_ALL, now });
  return jsonCopy(record, slots) as Record<string, unknown>;
}

function jsonCopy(value: unknown, slots: ValueSlots): unknown {
  switch (typeof value) {
    case 'string':
      // The first character (a NUL) rules out nearly every string at once.
      return value.charCodeAt(0) === 0 && value.startsWith(MARK) ? slotValue(slots, value) : value;
    case 'number':
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : null;
    case 'boolean':
      return value;
    case 'bigint':
      // As JSON.stringify does.
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'object': {
      if (value === null) return null;
      const withJson = value as { toJSON?: unknown };
      if (typeof withJson.toJSON === 'function') return jsonCopy((withJson.toJSON as () => unknown).call(value), slots);
      if (Array.isArray(value)) return value.map((item) => (isSkipped(item) ? null : jsonCopy(item, slots)));
      const copy: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        const item = (value as Record<string, unknown>)[key];
        if (!isSkipped(item)) copy[key] = jsonCopy(item, slots);
      }
      return copy;
    }
    default:
      return undefined;
  }
}

/** What JSON.stringify leaves out of an object (and writes as null in an array). */
function isSkipped(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

function slotValue(slots: ValueSlots, placeholder: string): unknown {
  const held = slots.held[Number(placeholder.slice(MARK.length))];
  if (held === undefined) return placeholder;
  const text = slotText(held);
  if (jsonNestingExceeds(text, MAX_RECORD_DEPTH - SLOT_DEPTH)) {
    throw new SlotTooDeepError(`JSON nested more than ${MAX_RECORD_DEPTH} levels deep, more than a record may have; skipped`);
  }
  return JSON.parse(text) as unknown;
}
