/**
 * Span sizes, for two uses:
 *
 *  - a bound that is never below the encoded request size, from string
 *    lengths alone (`.length` is O(1); measuring UTF-8 or escaping is not),
 *    so most batches (far below the export limit) need not be encoded once
 *    to measure and again to send. Per UTF-16 unit of a string, protobuf writes at most
 *    3 bytes of UTF-8 (a surrogate pair is two units for four bytes; a lone
 *    surrogate becomes U+FFFD, three bytes) and JSON at most 6 (`\u0000`).
 *    Everything else (tags, varint lengths, ids, times, quotes, field names)
 *    is a fixed amount per span, attribute, event or link, and the envelopes
 *    are several times what either encoding needs for it;
 *  - an estimate of a span's encoded size (≈ protobuf: the UTF-8 size of its
 *    strings plus a little per piece), taken for every span a batch queue
 *    holds. The JS heap keeps a string in 1 byte per character, or 2 per
 *    UTF-16 unit once it holds anything beyond Latin-1, so the heap those
 *    strings take stays within twice the estimate (and at it for ASCII).
 */
import type { Attributes, SpanContext } from '@opentelemetry/api';
import type { FinishedSpan } from '../trace/span-data.js';

/** How an OTLP request body is written: protobuf (http/protobuf and gRPC) or OTLP/JSON. */
export type WireEncoding = 'protobuf' | 'json';

/** Nesting past this is not walked (OTLP AnyValue maps and arrays in attributes are shallow in practice). */
const MAX_VALUE_DEPTH = 16;

interface SizeModel {
  /** Bytes a string takes. */
  text: (value: string) => number;
  /** Bytes per byte of a bytes value (base64 grows them by 4/3). */
  byte: number;
  span: number;
  /** Per event, link, resource or scope. */
  entry: number;
  /** Per attribute, array item or map entry. */
  value: number;
}

const UPPER_BOUND: Readonly<Record<WireEncoding, SizeModel>> = {
  protobuf: { text: (value) => 3 * value.length, byte: 1, span: 1024, entry: 256, value: 64 },
  json: { text: (value) => 6 * value.length, byte: 2, span: 1024, entry: 256, value: 64 },
};
/**
 * Never below the real size either, but close: the exact bytes each string
 * takes (UTF-8 in protobuf; its escaped JSON text in OTLP/JSON) with the
 * same generous fixed costs. Costs a pass over every string, so it measures
 * single spans when the cheap bound did not fit, never every batch.
 */
const TIGHT_BOUND: Readonly<Record<WireEncoding, SizeModel>> = {
  protobuf: { text: (value) => Buffer.byteLength(value, 'utf8'), byte: 1, span: 1024, entry: 256, value: 64 },
  json: { text: (value) => Buffer.byteLength(JSON.stringify(value), 'utf8'), byte: 2, span: 1024, entry: 256, value: 64 },
};

/** Roughly what protobuf takes: the text's UTF-8 and a few bytes of tags and lengths around each piece. */
const ESTIMATE: SizeModel = { text: (value) => Buffer.byteLength(value, 'utf8'), byte: 1, span: 128, entry: 32, value: 8 };

export function requestUpperBoundBytes(spans: readonly FinishedSpan[], encoding: WireEncoding): number {
  return requestBytesWith(spans, UPPER_BOUND[encoding]);
}

/** A bound never below the encoded request size, within the fixed costs of it (see TIGHT_BOUND). */
export function requestTightBoundBytes(spans: readonly FinishedSpan[], encoding: WireEncoding): number {
  return requestBytesWith(spans, TIGHT_BOUND[encoding]);
}

function requestBytesWith(spans: readonly FinishedSpan[], model: SizeModel): number {
  let bytes = 0;
  const envelopes = new Set<object>();
  for (const span of spans) {
    bytes += spanBytes(span, model);
    // The resource and scope are written once per request for each distinct one.
    if (!envelopes.has(span.resource)) {
      envelopes.add(span.resource);
      const schemaUrl = (span.resource as { readonly schemaUrl?: unknown }).schemaUrl;
      bytes += model.entry + attributesBytes(span.resource.attributes, model) + (typeof schemaUrl === 'string' ? model.text(schemaUrl) : 0);
    }
    if (!envelopes.has(span.instrumentationScope)) {
      envelopes.add(span.instrumentationScope);
      const scope = span.instrumentationScope;
      bytes += model.entry + model.text(scope.name) + model.text(scope.version ?? '') + model.text(scope.schemaUrl ?? '');
    }
  }
  return bytes;
}

/** About what the span adds to a protobuf request (its resource and scope are shared, so not counted). */
export function estimateSpanBytes(span: FinishedSpan): number {
  return spanBytes(span, ESTIMATE);
}

function spanBytes(span: FinishedSpan, model: SizeModel): number {
  const context = span.spanContext();
  let bytes = model.span + model.text(span.name) + model.text(span.status.message ?? '') + model.text(traceStateOf(context))
    + model.text(context.traceId) + model.text(context.spanId) + model.text(span.parentSpanContext?.spanId ?? '');
  bytes += attributesBytes(span.attributes, model);
  for (const event of span.events) bytes += model.entry + model.text(event.name) + attributesBytes(event.attributes, model);
  for (const link of span.links) {
    bytes += model.entry + model.text(traceStateOf(link.context)) + model.text(link.context.traceId) + model.text(link.context.spanId)
      + attributesBytes(link.attributes, model);
  }
  return bytes;
}

function attributesBytes(attributes: Attributes | undefined, model: SizeModel): number {
  let bytes = 0;
  if (attributes === undefined) return bytes;
  for (const key of Object.keys(attributes)) bytes += model.value + model.text(key) + valueBytes(attributes[key], model, 0);
  return bytes;
}

function valueBytes(value: unknown, model: SizeModel, depth: number): number {
  if (depth > MAX_VALUE_DEPTH || value === null || typeof value !== 'object') {
    return model.value + (typeof value === 'string' ? model.text(value) : 0);
  }
  if (value instanceof Uint8Array) return model.value + model.byte * value.byteLength;
  let bytes = model.value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) bytes += model.value + valueBytes(value[i], model, depth + 1);
    return bytes;
  }
  for (const [key, item] of Object.entries(value)) bytes += model.value + model.text(key) + valueBytes(item, model, depth + 1);
  return bytes;
}

/** The W3C `tracestate` header value of a context, '' when there is none (or it cannot be serialized). */
function traceStateOf(context: SpanContext): string {
  try {
    return context.traceState?.serialize() ?? '';
  } catch {
    return '';
  }
}
