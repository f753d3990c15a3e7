/**
 * Span sizes from string lengths alone (`.length` is O(1); measuring UTF-8
 * or escaping is not), for two uses:
 *
 *  - a bound that is never below the encoded request size, so most batches
 *    (far below the export limit) need not be encoded once to measure and
 *    again to send. Per UTF-16 unit of a string, protobuf writes at most
 *    3 bytes of UTF-8 (a surrogate pair is two units for four bytes; a lone
 *    surrogate becomes U+FFFD, three bytes) and JSON at most 6 (`\u0000`).
 *    Everything else (tags, varint lengths, ids, times, quotes, field names)
 *    is a fixed amount per span, attribute, event or link, and the envelopes
 *    are several times what either encoding needs for it;
 *  - an estimate of a span's encoded size (≈ protobuf), cheap enough to take
 *    for every span a batch queue holds.
 */
import type { Attributes } from '@opentelemetry/api';
import type { FinishedSpan } from '../../trace/span-data.js';
import type { OtlpProtocol } from './protocol.js';
import { MAX_VALUE_DEPTH, traceStateOf } from './span-fields.js';

interface SizeModel {
  /** Bytes per UTF-16 unit of a string. */
  unit: number;
  /** Bytes per byte of a bytes value (base64 grows them by 4/3). */
  byte: number;
  span: number;
  /** Per event, link, resource or scope. */
  entry: number;
  /** Per attribute, array item or map entry. */
  value: number;
}

const UPPER_BOUND: Readonly<Record<OtlpProtocol, SizeModel>> = {
  'http/protobuf': { unit: 3, byte: 1, span: 1024, entry: 256, value: 64 },
  'http/json': { unit: 6, byte: 2, span: 1024, entry: 256, value: 64 },
};
/** Roughly what protobuf takes for ASCII text: a few bytes of tags and lengths around each piece. */
const ESTIMATE: SizeModel = { unit: 1, byte: 1, span: 128, entry: 32, value: 8 };

export function requestUpperBoundBytes(spans: readonly FinishedSpan[], protocol: OtlpProtocol): number {
  const model = UPPER_BOUND[protocol];
  let bytes = 0;
  const envelopes = new Set<object>();
  for (const span of spans) {
    bytes += spanBytes(span, model);
    // The resource and scope are written once per request for each distinct one.
    if (!envelopes.has(span.resource)) {
      envelopes.add(span.resource);
      const schemaUrl = (span.resource as { readonly schemaUrl?: unknown }).schemaUrl;
      bytes += model.entry + attributesBytes(span.resource.attributes, model)
        + model.unit * (typeof schemaUrl === 'string' ? schemaUrl.length : 0);
    }
    if (!envelopes.has(span.instrumentationScope)) {
      envelopes.add(span.instrumentationScope);
      const scope = span.instrumentationScope;
      bytes += model.entry + model.unit * (scope.name.length + (scope.version?.length ?? 0) + (scope.schemaUrl?.length ?? 0));
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
  let bytes = model.span
    + model.unit * (span.name.length + (span.status.message?.length ?? 0) + traceStateOf(context).length
      + context.traceId.length + context.spanId.length + (span.parentSpanContext?.spanId.length ?? 0));
  bytes += attributesBytes(span.attributes, model);
  for (const event of span.events) bytes += model.entry + model.unit * event.name.length + attributesBytes(event.attributes, model);
  for (const link of span.links) {
    bytes += model.entry + model.unit * (traceStateOf(link.context).length + link.context.traceId.length + link.context.spanId.length)
      + attributesBytes(link.attributes, model);
  }
  return bytes;
}

function attributesBytes(attributes: Attributes | undefined, model: SizeModel): number {
  let bytes = 0;
  if (attributes === undefined) return bytes;
  for (const key of Object.keys(attributes)) bytes += model.value + model.unit * key.length + valueBytes(attributes[key], model, 0);
  return bytes;
}

function valueBytes(value: unknown, model: SizeModel, depth: number): number {
  if (depth > MAX_VALUE_DEPTH || value === null || typeof value !== 'object') {
    return model.value + (typeof value === 'string' ? model.unit * value.length : 0);
  }
  if (value instanceof Uint8Array) return model.value + model.byte * value.byteLength;
  let bytes = model.value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) bytes += model.value + valueBytes(value[i], model, depth + 1);
    return bytes;
  }
  for (const [key, item] of Object.entries(value)) bytes += model.value + model.unit * key.length + valueBytes(item, model, depth + 1);
  return bytes;
}
