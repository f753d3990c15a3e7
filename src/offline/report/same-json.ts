/**
 * Exact equality of two parsed JSON values: for what `JSON.parse` returns,
 * true exactly when `JSON.stringify(a) === JSON.stringify(b)` — keys compared
 * in order, since the page shows them in order — without building either
 * text (for other values it may say "different" where the texts are equal,
 * which only costs a message shown twice). A report compares the
 * messages of one call with those of another to show each message once, and
 * most of them are equal: their strings are compared as they are (a memory
 * compare), never serialized, hashed or copied.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    // -0 and 0, which `===` already equates, print the same; anything else differs in its text.
    return false;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  // Parsed JSON has plain objects only: anything else (a toJSON, a Date) is compared by its text.
  if (Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) {
    return JSON.stringify(a) === JSON.stringify(b);
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (let i = 0; i < ka.length; i++) {
    const key = ka[i] as string;
    if (key !== kb[i]) return false;
    if (!sameJson(ra[key], rb[key])) return false;
  }
  return true;
}
