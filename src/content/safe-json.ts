/**
 * JSON serialization that never throws and always yields valid JSON of the
 * same shape as its input.
 *
 * The fast path is plain `JSON.stringify` (native, and already escapes lone
 * surrogates since Node 12, maps NaN/Infinity to null and drops undefined and
 * functions exactly as the OpenAI SDK would when sending the same value). Only
 * values it rejects or cannot bound take the careful walk:
 *  - circular references and BigInt (become `"[Circular]"` and a decimal string);
 *  - nesting deeper than `maxDepth` (the over-deep subtree becomes a marker
 *    string; the rest stays): readers, ours and Python's `json` among them,
 *    recurse per level and would crash on it;
 *  - a text longer than one string can hold: the longest strings are cut
 *    with a marker (`fit-json.ts`) instead of losing the whole value.
 */
import { constants } from 'node:buffer';
import { fitJson } from './fit-json.js';
import { jsonNestingExceeds } from './json-nesting.js';

export type JsonReplacer = (key: string, value: unknown) => unknown;

/** Containers nested deeper than this below the root are replaced by a marker. */
export const MAX_JSON_DEPTH = 500;

export interface StringifyLimits {
  /** Default MAX_JSON_DEPTH. */
  maxDepth?: number;
  /**
   * Levels above `value` that count toward the bound: a message serialized on
   * its own (`1`, its list's level) is cut where the whole list would be, and
   * the marker names the same depth. Default 0.
   */
  outerDepth?: number;
  /** Longest text returned, in UTF-16 units; default the longest string this runtime can hold. */
  maxLength?: number;
}

/** What stands where a subtree nested too deep was. */
export function tooDeepMarker(maxDepth: number): string {
  return `[moa-otel: nested deeper than ${maxDepth} levels, cut]`;
}

export function safeStringify(value: unknown, replacer?: JsonReplacer, limits: StringifyLimits = {}): string {
  const outerDepth = limits.outerDepth ?? 0;
  const maxDepth = (limits.maxDepth ?? MAX_JSON_DEPTH) - outerDepth;
  const maxLength = limits.maxLength ?? constants.MAX_STRING_LENGTH;
  const text = nativeStringify(value, replacer);
  return text === NATIVE_FAILED ? carefulStringify(value, replacer, maxDepth, maxLength, outerDepth) : checkedText(value, text, replacer, limits);
}

/** What `nativeStringify` answers when `JSON.stringify` threw (a cycle, a BigInt, a throwing getter or `toJSON`). */
export const NATIVE_FAILED: unique symbol = Symbol('JSON.stringify threw');

/** Plain `JSON.stringify`, with a throw turned into NATIVE_FAILED. */
export function nativeStringify(value: unknown, replacer?: JsonReplacer): string | undefined | typeof NATIVE_FAILED {
  try {
    return replacer ? JSON.stringify(value, replacer) : JSON.stringify(value);
  } catch {
    return NATIVE_FAILED;
  }
}

/**
 * `safeStringify(value, replacer, limits)` for a value whose plain
 * `JSON.stringify` (with the same replacer) already gave `text`: the text
 * itself when it is within the limits, so a caller that had to serialize
 * anyway does not serialize twice.
 */
export function checkedText(value: unknown, text: string | undefined, replacer?: JsonReplacer, limits: StringifyLimits = {}): string {
  const outerDepth = limits.outerDepth ?? 0;
  const maxDepth = (limits.maxDepth ?? MAX_JSON_DEPTH) - outerDepth;
  const maxLength = limits.maxLength ?? constants.MAX_STRING_LENGTH;
  if (text === undefined) return 'null';
  if (text.length > maxLength || jsonNestingExceeds(text, maxDepth)) return carefulStringify(value, replacer, maxDepth, maxLength, outerDepth);
  return text;
}

/** Parses JSON, returning `undefined` instead of throwing. */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function carefulStringify(root: unknown, replacer: JsonReplacer | undefined, maxDepth: number, maxLength: number, outerDepth: number): string {
  let plain: unknown;
  try {
    plain = toPlainJson(root, replacer, maxDepth, outerDepth);
  } catch (err) {
    // Should be unreachable: the walk catches what user values throw. Keep the record anyway.
    return JSON.stringify(`[unserializable: ${err instanceof Error ? err.message : String(err)}]`);
  }
  try {
    const text = JSON.stringify(plain) ?? 'null';
    if (text.length <= maxLength) return text;
  } catch {
    // Too long for one string ("Invalid string length"): cut below.
  }
  // UTF-8 bytes are never fewer than UTF-16 units, so a byte budget of
  // maxLength is a length budget too.
  const fitted = fitJson([plain], maxLength);
  if (fitted) return fitted.texts[0] as string;
  const note = '[moa-otel: omitted, too large for one JSON text even with every string cut]';
  return JSON.stringify(Array.isArray(plain) ? [note] : note);
}

/**
 * The value as plain JSON data (what JSON.stringify would see), without
 * cycles, BigInt or over-deep subtrees. Re-enters per node with the replacer
 * seeing this level only, so cycles are detected against the real ancestor
 * chain (a value shared by two siblings is not a cycle).
 */
function toPlainJson(root: unknown, replacer: JsonReplacer | undefined, maxDepth: number, outerDepth: number): unknown {
  const ancestors: object[] = [];
  const walk = (holderKey: string, input: unknown): unknown => {
    let value = input;
    if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      try {
        value = (value as { toJSON: (k: string) => unknown }).toJSON(holderKey);
      } catch (err) {
        return `[toJSON failed: ${err instanceof Error ? err.message : String(err)}]`;
      }
    }
    if (replacer) value = replacer(holderKey, value);
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'function' || typeof value === 'symbol') return undefined;
    if (value === null || typeof value !== 'object') return value;
    if (ancestors.includes(value)) return '[Circular]';
    if (ancestors.length >= maxDepth) return tooDeepMarker(maxDepth + outerDepth);
    ancestors.push(value);
    try {
      if (Array.isArray(value)) {
        return value.map((item, i) => {
          const out = walk(String(i), item);
          return out === undefined ? null : out;
        });
      }
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        let child: unknown;
        try {
          child = (value as Record<string, unknown>)[key];
        } catch (err) {
          child = `[getter failed: ${err instanceof Error ? err.message : String(err)}]`;
        }
        const mapped = walk(key, child);
        if (mapped !== undefined) out[key] = mapped;
      }
      return out;
    } finally {
      ancestors.pop();
    }
  };
  return walk('', root);
}
