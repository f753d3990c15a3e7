/**
 * Serializes JSON values within a byte budget by cutting their longest
 * strings, so content too big to write degrades instead of disappearing.
 *
 * All strings longer than a common cap are cut to that cap (the longest lose
 * most, short ones are untouched) and end with the visible marker of
 * `truncation.ts`, saying how many characters were cut. Object
 * keys and short strings (roles, part types, ids, tool names) are structure
 * and are kept, so the result has the shape of the input. The cap is
 * estimated from per-string costs, then verified by serializing, and
 * tightened when escaping made the estimate optimistic.
 */
import { cutText, keptChars, truncationMarker } from './truncation.js';

/** Strings this short are structure, not content: never cut. */
export const KEEP_STRINGS_UP_TO = 64;

export interface FittedJson {
  /** One JSON text per input value, in order. */
  texts: string[];
  /** Characters removed from strings, in total (0: nothing was cut). */
  truncatedChars: number;
}

/** Encoded bytes a marker may add to a cut string (`…` is 3 bytes; the count at most 16 digits). */
const MARKER_ALLOWANCE_BYTES = truncationMarker(10 ** 15).length + 2;
/** How many times the cap is verified and tightened before giving up. */
const MAX_ATTEMPTS = 8;
/** Strings are measured in slices this long, so measuring never needs a second huge string. */
const MEASURE_SLICE = 1 << 20;

/**
 * The values (plain JSON data: no cycles, no toJSON) as JSON texts whose
 * UTF-8 sizes add up to at most `maxBytes`; undefined when even cutting
 * every long string to nothing is not enough.
 */
export function fitJson(values: readonly unknown[], maxBytes: number): FittedJson | undefined {
  const costs = collectLongStrings(values).map(measure).sort((a, b) => a.length - b.length);
  const estimate = capEstimator(costs, fixedBytes(values));
  const longest = costs.at(-1)?.length ?? 0;
  let target = maxBytes;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const cap = largestCap(estimate, target, longest);
    let truncatedChars = 0;
    const cut = (text: string): string => {
      const result = cutString(text, cap);
      if (result !== text) truncatedChars += text.length - keptChars(text, cap);
      return result;
    };
    const texts = values.map((value) => JSON.stringify(mapStrings(value, cut)) ?? 'null');
    const bytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text, 'utf8'), 0);
    if (bytes <= maxBytes) return { texts, truncatedChars };
    if (cap === 0) return undefined;
    // The estimate was optimistic (escapes are uneven along a string): aim lower by the overshoot and a margin.
    target -= bytes - maxBytes + Math.ceil(maxBytes * 0.01);
  }
  return undefined;
}

/** Cuts `text` to `cap` characters plus a marker, when it is long enough to be content. */
function cutString(text: string, cap: number): string {
  return text.length <= KEEP_STRINGS_UP_TO ? text : cutText(text, cap);
}

interface StringCost {
  length: number;
  /** UTF-8 bytes of the string as escaped inside JSON, without the quotes. */
  bytes: number;
}

function measure(text: string): StringCost {
  let bytes = 0;
  for (let from = 0; from < text.length; from += MEASURE_SLICE) {
    bytes += Buffer.byteLength(JSON.stringify(text.slice(from, from + MEASURE_SLICE)), 'utf8') - 2;
  }
  return { length: text.length, bytes };
}

/** Bytes of everything that is not a long string (those become `""`). */
function fixedBytes(values: readonly unknown[]): number {
  const empty = (text: string) => (text.length > KEEP_STRINGS_UP_TO ? '' : text);
  return values.reduce<number>((sum, value) => sum + Buffer.byteLength(JSON.stringify(mapStrings(value, empty)) ?? 'null', 'utf8'), 0);
}

/**
 * Estimated total bytes at a cap, in O(log n): strings no longer than the cap
 * cost their full size (a prefix sum over the sorted lengths), longer ones the
 * cap times their bytes per character plus a marker (a suffix sum).
 */
function capEstimator(sorted: readonly StringCost[], fixed: number): (cap: number) => number {
  const fullBytesBefore = [0];
  for (const cost of sorted) fullBytesBefore.push((fullBytesBefore.at(-1) ?? 0) + cost.bytes);
  const ratioFrom = Array<number>(sorted.length + 1).fill(0);
  for (let i = sorted.length - 1; i >= 0; i--) {
    const cost = sorted[i] as StringCost;
    ratioFrom[i] = (ratioFrom[i + 1] ?? 0) + cost.bytes / cost.length;
  }
  return (cap) => {
    const kept = countUpTo(sorted, cap);
    const cutCount = sorted.length - kept;
    return fixed + (fullBytesBefore[kept] ?? 0) + cap * (ratioFrom[kept] ?? 0) + cutCount * MARKER_ALLOWANCE_BYTES;
  };
}

/** How many of the sorted strings are no longer than `cap`. */
function countUpTo(sorted: readonly StringCost[], cap: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] as StringCost).length <= cap) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The largest cap in [0, longest] whose estimate fits `target` (0 when none does). */
function largestCap(estimate: (cap: number) => number, target: number, longest: number): number {
  let low = 0;
  let high = longest;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (estimate(mid) <= target) low = mid;
    else high = mid - 1;
  }
  return low;
}

function collectLongStrings(values: readonly unknown[]): string[] {
  const found: string[] = [];
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      if (value.length > KEEP_STRINGS_UP_TO) found.push(value);
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item);
    } else if (value !== null && typeof value === 'object') {
      for (const item of Object.values(value)) visit(item);
    }
  };
  for (const value of values) visit(value);
  return found;
}

/** A copy of plain JSON data with every string value (not key) passed through `map`. */
function mapStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = mapStrings(item, map);
    return out;
  }
  return value;
}
