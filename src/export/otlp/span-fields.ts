/**
 * The span facts both OTLP encodings derive the same way: span kind numbers,
 * span flags, trace state, and how an attribute value maps onto the oneof of
 * OTLP's `AnyValue`.
 */
import type { SpanContext } from '@opentelemetry/api';

/** OTLP `SpanFlags`: the low byte is the W3C trace flags; the next two bits say whether remoteness is known, and whether the context is remote. */
const TRACE_FLAGS_MASK = 0xff;
const CONTEXT_HAS_IS_REMOTE = 0x100;
const CONTEXT_IS_REMOTE = 0x200;

/** Deeper nesting (or a cycle) in a map or array value is written as an empty value, so encoding always ends. */
export const MAX_VALUE_DEPTH = 16;

export function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & TRACE_FLAGS_MASK) | CONTEXT_HAS_IS_REMOTE | (isRemote === true ? CONTEXT_IS_REMOTE : 0);
}

/** The API's SpanKind counts from INTERNAL = 0; OTLP reserves 0 for "unspecified", so it is off by one. */
export function otlpSpanKind(kind: number): number {
  return Number.isInteger(kind) && kind >= 0 && kind <= 4 ? kind + 1 : 0;
}

/** The W3C `tracestate` header value of a context, '' when there is none (or it cannot be serialized). */
export function traceStateOf(context: SpanContext): string {
  try {
    return context.traceState?.serialize() ?? '';
  } catch {
    return '';
  }
}

export type AnyValueKind = 'string' | 'bool' | 'int' | 'double' | 'bytes' | 'array' | 'kvlist' | 'empty';

/** int64 bounds as exact doubles: [-2^63, 2^63). */
const MIN_INT64 = -(2 ** 63);
const INT64_END = 2 ** 63;

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
