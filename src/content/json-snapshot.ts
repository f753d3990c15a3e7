/**
 * A structural snapshot of a value as `JSON.stringify` would see it, taken
 * in time proportional to the number of nodes, not the bytes of text.
 *
 * A message must be recorded as it was when its call started, but
 * serializing a large conversation there would block the agent. Strings are
 * immutable, so a copy of the object structure that shares the string values
 * freezes what `JSON.stringify` would read now (getters are read, `toJSON` is
 * called) and can be serialized later, off the caller's path, to the same
 * bytes. The same walk tells whether a value still reads as a snapshot, which
 * is how a cached serialization is known to be current without serializing
 * again.
 */
import { isBigIntObject, isBooleanObject, isNumberObject, isStringObject } from 'node:util/types';

/** Nesting beyond this is not snapshotted (the caller serializes at once, with its own depth rules). */
const MAX_SNAPSHOT_DEPTH = 64;

export interface JsonSnapshot {
  /** Plain arrays, plain objects and primitives (boxed ones read as their value): `JSON.stringify(copy)` equals `JSON.stringify(value)` at snapshot time. */
  readonly copy: unknown;
  /** Characters of string values and keys in it: an estimate of its serialized size. */
  readonly chars: number;
  /** The first string value of 64 characters or more, in document order: what equal messages share. */
  readonly anchor: string | undefined;
}

/** Strings at least this long anchor a snapshot for look-ups by content. */
export const ANCHOR_MIN_CHARS = 64;

class Unsnapshottable extends Error {}

/**
 * The snapshot of `value`, or undefined when it cannot be taken cheaply and
 * faithfully (cycles, very deep nesting, a getter or `toJSON` that throws,
 * BigInt): then the caller serializes the value at once. `key` is what
 * `JSON.stringify` would pass the value's own `toJSON`: its index when it is
 * an element of an array (a message of a list).
 */
export function snapshotJson(value: unknown, key: string | number = ''): JsonSnapshot | undefined {
  const state = { chars: 0, anchor: undefined as string | undefined };
  const ancestors: object[] = [];
  const walk = (key: string, input: unknown): unknown => {
    let v = input;
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON: (k: string) => unknown }).toJSON(key);
    }
    // Boxed primitives serialize as their value (plain objects and arrays are never boxes: not asked).
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) !== Object.prototype) v = unboxed(v);
    if (typeof v === 'bigint') throw new Unsnapshottable();
    if (typeof v === 'string') {
      state.chars += v.length;
      if (state.anchor === undefined && v.length >= ANCHOR_MIN_CHARS) state.anchor = v;
      return v;
    }
    if (v === null || typeof v !== 'object') return v;
    if (ancestors.length >= MAX_SNAPSHOT_DEPTH || ancestors.includes(v)) throw new Unsnapshottable();
    ancestors.push(v);
    try {
      if (Array.isArray(v)) {
        const length = v.length;
        const out = new Array<unknown>(length);
        for (let i = 0; i < length; i++) out[i] = walk(String(i), v[i]);
        return out;
      }
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        state.chars += k.length;
        const child = walk(k, (v as Record<string, unknown>)[k]);
        // `__proto__` as an own key must stay an own key of the copy.
        if (k === '__proto__') Object.defineProperty(out, k, { value: child, enumerable: true, writable: true, configurable: true });
        else out[k] = child;
      }
      return out;
    } finally {
      ancestors.pop();
    }
  };
  try {
    const copy = walk(String(key), value);
    return { copy, chars: state.chars, anchor: state.anchor };
  } catch {
    return undefined;
  }
}

/** `Boolean.prototype.valueOf` as the module found it: reads a Boolean object's own value. */
const booleanData = Boolean.prototype.valueOf;

/**
 * A boxed primitive's value as `JSON.stringify` reads it, read now: a String
 * object through its `toString`, a Number object through its `valueOf`
 * (either may be replaced later, so the object itself is no snapshot), a
 * Boolean object its own value. Told apart by their internal slot, as
 * `JSON.stringify` does, so boxes from another realm (`vm`) are unboxed too.
 * Any other object is returned as it is (a Symbol object serializes as `{}`).
 */
function unboxed(v: object): unknown {
  if (isStringObject(v)) return String(v);
  if (isNumberObject(v)) return Number(v);
  if (isBooleanObject(v)) return booleanData.call(v);
  if (isBigIntObject(v)) return BigInt.prototype.valueOf.call(v);
  return v;
}

/**
 * The anchor `snapshotJson` would give `value`, found without copying
 * anything; undefined when there is none or `value` has a `toJSON` (whose
 * result only a snapshot can know). Lets an equal copy of a known message be
 * recognised without allocating. Never throws.
 */
export function anchorOf(value: unknown): string | undefined {
  try {
    return findAnchor(value, 0);
  } catch {
    return undefined;
  }
}

const NO_ANCHOR = Symbol('no anchor');

function findAnchor(value: unknown, depth: number): string | undefined {
  const found = anchorWalk(value, depth);
  return typeof found === 'string' ? found : undefined;
}

function anchorWalk(value: unknown, depth: number): string | typeof NO_ANCHOR | undefined {
  if (typeof value === 'string') return value.length >= ANCHOR_MIN_CHARS ? value : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function' || depth >= MAX_SNAPSHOT_DEPTH) return NO_ANCHOR;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = anchorWalk(value[i], depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value instanceof String || value instanceof Number || value instanceof Boolean) return NO_ANCHOR;
  for (const k of Object.keys(value)) {
    const found = anchorWalk((value as Record<string, unknown>)[k], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Whether `value` still reads exactly as `copy`: same keys in the same order,
 * same primitives (strings compared by value, which V8 answers at once for
 * the same string). A value with `toJSON` anywhere never matches: what it
 * returns cannot be known without calling it, so it is always snapshotted
 * anew. Never throws (a throwing getter means "no match").
 */
export function readsAsSnapshot(value: unknown, copy: unknown): boolean {
  try {
    return same(value, copy, 0);
  } catch {
    return false;
  }
}

function same(value: unknown, copy: unknown, depth: number): boolean {
  if (value === copy) return true;
  // NaN reads as NaN (both serialize to null); any other primitive difference is a change.
  if (typeof value !== 'object' || value === null || typeof copy !== 'object' || copy === null) return Number.isNaN(value) && Number.isNaN(copy);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  if (value instanceof String || value instanceof Number || value instanceof Boolean) return false;
  if (depth >= MAX_SNAPSHOT_DEPTH) return false;
  if (Array.isArray(value)) {
    if (!Array.isArray(copy) || value.length !== copy.length) return false;
    for (let i = 0; i < value.length; i++) if (!same(value[i], copy[i], depth + 1)) return false;
    return true;
  }
  if (Array.isArray(copy)) return false;
  const keys = Object.keys(value);
  const copyKeys = Object.keys(copy);
  if (keys.length !== copyKeys.length) return false;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    if (k !== copyKeys[i]) return false;
    if (!same((value as Record<string, unknown>)[k], (copy as Record<string, unknown>)[k], depth + 1)) return false;
  }
  return true;
}
