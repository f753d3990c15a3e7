/**
 * How the size guard measures export requests. The exact size of a request
 * comes from the official serializer the exporter itself uses
 * (`ProtobufTraceSerializer` / `JsonTraceSerializer` of
 * `@opentelemetry/otlp-transformer`, loaded from beside the exporter, see
 * `load-exporter.ts`). An exporter passed in by the application exposes no
 * serializer, so then a conservative estimate stands in (`span-size.ts`):
 * the exact bytes of every string plus generous fixed costs per span,
 * attribute and event, never below the real size. It splits and shrinks a
 * little earlier than needed, never later.
 */
import type { FinishedSpan } from '../trace/span-data.js';
import { requestTightBoundBytes, requestUpperBoundBytes, type WireEncoding } from './span-size.js';

export interface SpanMeasure {
  readonly encoding: WireEncoding;
  /** True when `requestBytes` is the serializer's exact size; false for the conservative estimate. */
  readonly exact: boolean;
  /** Bytes of one request holding `spans`: exact, or an estimate never below it. */
  requestBytes(spans: readonly FinishedSpan[]): number;
  /** Never below `requestBytes(spans)`, and cheap (string lengths only). */
  upperBoundBytes(spans: readonly FinishedSpan[]): number;
}

/** What `@opentelemetry/otlp-transformer`'s trace serializers offer. */
export interface TraceSerializerLike {
  serializeRequest(spans: FinishedSpan[]): Uint8Array | undefined;
}

export function serializerMeasure(encoding: WireEncoding, serializer: TraceSerializerLike): SpanMeasure {
  return {
    encoding,
    exact: true,
    requestBytes: (spans) => serializer.serializeRequest([...spans])?.byteLength ?? requestUpperBoundBytes(spans, encoding),
    upperBoundBytes: (spans) => requestUpperBoundBytes(spans, encoding),
  };
}

export function estimatedMeasure(encoding: WireEncoding): SpanMeasure {
  return {
    encoding,
    exact: false,
    requestBytes: (spans) => requestTightBoundBytes(spans, encoding),
    upperBoundBytes: (spans) => requestUpperBoundBytes(spans, encoding),
  };
}
