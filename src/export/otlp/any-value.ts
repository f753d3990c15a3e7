/**
 * How an attribute value maps onto the oneof of OTLP's `AnyValue`, the same
 * for both encodings and every signal (span, event, link, resource and
 * metric point attributes).
 */
import { INT64_END, MIN_INT64 } from './proto-sink.js';

/** Deeper nesting (or a cycle) in a map or array value is written as an empty value, so encoding always ends. */
export const MAX_VALUE_DEPTH = 16;

export type AnyValueKind = 'string' | 'bool' | 'int' | 'double' | 'bytes' | 'array' | 'kvlist' | 'empty';

/** Which `AnyValue` field carries `value`: integral numbers in int64 range are ints, other numbers doubles. */
export function anyValueKind(value: unknown): AnyValueKind {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(value) && value >= MIN_INT64 && value < INT64_END ? 'int' : 'double';
    case 'object':
      if (value === null) return 'empty';
      if (value instanceof Uint8Array) return 'bytes';
      if (Array.isArray(value)) return 'array';
      return 'kvlist';
    default:
      return 'empty';
  }
}
