/**
 * Whether a value is small JSON, found without serializing or copying it.
 *
 * Capturing a call's messages has two ways: serialize them at once, or take
 * a structural snapshot through the session's message cache and serialize
 * each message once per session, later (`message-cache.ts`). The cache pays
 * off on long conversations, whose messages come back every turn and in
 * every reference; on a short one, serializing at once is cheaper than the
 * cache's bookkeeping, and too small to block the caller. This walk tells
 * the two apart: it adds up the characters of keys and strings and gives up
 * as soon as the budget is spent.
 */

/** Nesting this deep is never called small (the snapshot path has the depth rules). */
const MAX_DEPTH = 32;

/**
 * About the characters of `value`'s JSON (its strings and keys, and one per
 * value) when that is at most `budget`; undefined when there are more, or
 * when the size cannot be known without serializing (a `toJSON`, which only
 * serializing calls; nesting deeper than a few dozen levels; a getter that
 * throws). Never throws.
 */
export function jsonCharsWithin(value: unknown, budget: number): number | undefined {
  try {
    const left = walk(value, budget, 0);
    return left < 0 ? undefined : budget - left;
  } catch {
    return undefined;
  }
}

/**
 * The budget left after `value`; negative when it ran out (or the size is
 * unknown). Every value costs at least one, so the walk never takes more
 * steps than the budget, however the value is shaped.
 */
function walk(value: unknown, budget: number, depth: number): number {
  if (typeof value === 'string') return budget - 1 - value.length;
  if (value === null || typeof value !== 'object') return budget - 1;
  if (depth >= MAX_DEPTH || typeof (value as { toJSON?: unknown }).toJSON === 'function') return -1;
  let left = budget - 1;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && left >= 0; i++) left = walk(value[i], left, depth + 1);
    return left;
  }
  for (const key in value) {
    // Own enumerable keys only, as JSON.stringify reads them (inherited ones are skipped).
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    left = walk((value as Record<string, unknown>)[key], left - key.length, depth + 1);
    if (left < 0) return left;
  }
  return left;
}
