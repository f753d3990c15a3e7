/**
 * The span facts both OTLP encodings derive the same way: span kind numbers,
 * span flags and trace state.
 */
import type { SpanContext } from '@opentelemetry/api';

/** OTLP `SpanFlags`: the low byte is the W3C trace flags; the next two bits say whether remoteness is known, and whether the context is remote. */
const TRACE_FLAGS_MASK = 0xff;
const CONTEXT_HAS_IS_REMOTE = 0x100;
const CONTEXT_IS_REMOTE = 0x200;

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
