/**
 * How content is shortened when it must be (an OTLP request limit, a display
 * cap for UIs, a record larger than one string can hold): the text keeps its
 * beginning and says how much was cut, so a reader never mistakes a cut text
 * for a whole one. Cutting happens on string values, never on JSON text, so
 * the result stays valid JSON.
 */

export function truncationMarker(removedChars: number): string {
  return `…[moa-otel: truncated ${removedChars} chars]`;
}

/** How many leading UTF-16 units `cutText` keeps of `text`: at most `maxChars`, one less where a surrogate pair would split. */
export function keptChars(text: string, maxChars: number): number {
  if (text.length <= maxChars) return text.length;
  const end = Math.max(0, maxChars);
  const code = text.charCodeAt(end - 1);
  return end > 0 && code >= 0xd800 && code <= 0xdbff ? end - 1 : end;
}

/** `text` cut to at most `maxChars` UTF-16 units plus the marker; a surrogate pair is never split. */
export function cutText(text: string, maxChars: number): string {
  const end = keptChars(text, maxChars);
  return end === text.length ? text : text.slice(0, end) + truncationMarker(text.length - end);
}

const encoder = new TextEncoder();

/** `text` cut to its longest prefix of at most `maxBytes` UTF-8 bytes plus the marker; characters are never split. */
function cutTextToBytes(text: string, maxBytes: number): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short texts need no measuring.
  if (text.length * 3 <= maxBytes) return text;
  const { read } = encoder.encodeInto(text, new Uint8Array(maxBytes));
  return read >= text.length ? text : text.slice(0, read) + truncationMarker(text.length - read);
}

/**
 * A copy of a JSON-like value in which every string longer than `maxBytes`
 * (UTF-8) is cut; keys are kept whole. `before` transforms each string before
 * it is measured (masking: a secret must be masked before a cut can break
 * it). Values that need no change are shared, not copied.
 */
export function capStrings<T>(value: T, maxBytes: number, before?: (text: string) => string): T {
  if (typeof value === 'string') return cutTextToBytes(before ? before(value) : value, maxBytes) as T;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const capped = capStrings(item, maxBytes, before);
      if (capped !== item) changed = true;
      return capped;
    });
    return (changed ? out : value) as T;
  }
  if (value !== null && typeof value === 'object') {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const capped = capStrings(item, maxBytes, before);
      if (capped !== item) changed = true;
      Object.defineProperty(out, key, { value: capped, enumerable: true, writable: true, configurable: true });
    }
    return (changed ? out : value) as T;
  }
  return value;
}
