/**
 * Serializes a record skeleton in which some values are already JSON text.
 *
 * Message arrays are serialized once, when a call starts (a snapshot: agent
 * loops mutate their arrays afterwards). Re-parsing them to build the line
 * would double the cost of a turn, so the record holds them as `RawJson` and
 * this writer splices the text in. Everything else in a record is small.
 */
import { safeStringify } from '../content/safe-json.js';

export class RawJson {
  constructor(readonly text: string) {}
}

export function serializeLine(value: unknown): string {
  const parts: string[] = [];
  write(value, parts);
  return parts.join('');
}

function write(value: unknown, out: string[]): void {
  if (value instanceof RawJson) {
    out.push(value.text);
    return;
  }
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      out.push(Number.isFinite(value) ? String(value) : 'null');
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'bigint':
      out.push(JSON.stringify(value.toString()));
      return;
    case 'undefined':
    case 'function':
    case 'symbol':
      out.push('null');
      return;
  }
  if (value === null) {
    out.push('null');
    return;
  }
  if (Array.isArray(value)) {
    out.push('[');
    value.forEach((item, i) => {
      if (i > 0) out.push(',');
      write(item, out);
    });
    out.push(']');
    return;
  }
  if (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) {
    out.push('{');
    let first = true;
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (item === undefined) continue;
      if (!first) out.push(',');
      first = false;
      out.push(JSON.stringify(key), ':');
      write(item, out);
    }
    out.push('}');
    return;
  }
  // Anything exotic (class instances, Dates) goes through the safe serializer.
  out.push(safeStringify(value));
}
