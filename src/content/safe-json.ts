/**
 * JSON serialization that never throws and always yields valid JSON.
 *
 * The fast path is plain `JSON.stringify` (native, and already escapes lone
 * surrogates since Node 12, maps NaN/Infinity to null and drops undefined and
 * functions exactly as the OpenAI SDK would when sending the same value). Only
 * values it rejects — circular references and BigInt — take the careful walk.
 */

export type JsonReplacer = (key: string, value: unknown) => unknown;

export function safeStringify(value: unknown, replacer?: JsonReplacer): string {
  try {
    const text = replacer ? JSON.stringify(value, replacer) : JSON.stringify(value);
    return text ?? 'null';
  } catch {
    return carefulStringify(value, replacer);
  }
}

/** Parses JSON, returning `undefined` instead of throwing. */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function carefulStringify(root: unknown, replacer?: JsonReplacer): string {
  const ancestors: object[] = [];
  // Re-enters JSON.stringify per node with a replacer that only sees this
  // level, so cycles are detected against the real ancestor chain (a value
  // shared by two siblings is not a cycle).
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
  try {
    return JSON.stringify(walk('', root)) ?? 'null';
  } catch (err) {
    // Should be unreachable: walk() returns plain JSON data. Keep the record anyway.
    return JSON.stringify(`[unserializable: ${err instanceof Error ? err.message : String(err)}]`);
  }
}
