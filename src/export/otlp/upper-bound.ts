/**
 * A cheap bound that is never below the encoded request size, from string
 * lengths alone (`.length` is O(1); measuring UTF-8 or escaping is not).
 * Most batches are far below the export limit, and this spares encoding them
 * once to measure and again to send.
 *
 * Per UTF-16 unit of a string:
 *  - protobuf writes UTF-8: at most 3 bytes per unit (a surrogate pair is
 *    two units for four bytes; a lone surrogate becomes U+FFFD, three bytes);
 *  - JSON escapes control characters as `\u0000`: at most 6 bytes per unit.
 * Everything else (tags, varint lengths, ids, times, quotes, field names) is a
 * fixed amount per span, attribute, event or link, and the envelopes below
 * are several times what either encoding needs for it.
 */
import type { Attributes } from '@opentelemetry/api';
import type { FinishedSpan } from '../../trace/span-data.js';
import type { OtlpProtocol } from './protocol.js';
import { MAX_VALUE_DEPTH, traceStateOf } from './span-fields.js';

const BYTES_PER_UNIT: Readonly<Record<OtlpProtocol, number>> = { 'http/protobuf': 3, 'http/json': 6 };
/** Base64 grows bytes by 4/3; protobuf writes them as they are. */
const BYTES_PER_BYTE: Readonly<Record<OtlpProtocol, number>> = { 'http/protobuf': 1, 'http/json': 2 };
const SPAN_ENVELOPE_BYTES = 1024;
const ENTRY_ENVELOPE_BYTES = 256;
const VALUE_ENVELOPE_BYTES = 64;

interface Costs {
  unit: number;
  byte: number;
}

export function requestUpperBoundBytes(spans: readonly FinishedSpan[], protocol: OtlpProtocol): number {
  const costs: Costs = { unit: BYTES_PER_UNIT[protocol], byte: BYTES_PER_BYTE[protocol] };
  let bytes = 0;
  const envelopes = new Set<object>();
  for (const span of spans) {
    bytes += spanUpperBound(span, costs);
    // The resource and scope are written once per request for each distinct one.
    if (!envelopes.has(span.resource)) {
      envelopes.add(span.resource);
      const schemaUrl = (span.resource as { readonly schemaUrl?: unknown }).schemaUrl;
      bytes += ENTRY_ENVELOPE_BYTES + attributesUpperBound(span.resource.attributes, costs)
        + costs.unit * (typeof schemaUrl === 'string' ? schemaUrl.length : 0);
    }
    if (!envelopes.has(span.instrumentationScope)) {
      envelopes.add(span.instrumentationScope);
      const scope = span.instrumentationScope;
      bytes += ENTRY_ENVELOPE_BYTES + costs.unit * (scope.name.length + (scope.version?.length ?? 0) + (scope.schemaUrl?.length ?? 0));
    }
  }
  return bytes;
}

function spanUpperBound(span: FinishedSpan, costs: Costs): number {
  const context = span.spanContext();
  let bytes = SPAN_ENVELOPE_BYTES
    + costs.unit * (span.name.length + (span.status.message?.length ?? 0) + traceStateOf(context).length
      + context.traceId.length + context.spanId.length + (span.parentSpanContext?.spanId.length ?? 0));
  bytes += attributesUpperBound(span.attributes, costs);
  for (const event of span.events) bytes += ENTRY_ENVELOPE_BYTES + costs.unit * event.name.length + attributesUpperBound(event.attributes, costs);
  for (const link of span.links) {
    bytes += ENTRY_ENVELOPE_BYTES + costs.unit * (traceStateOf(link.context).length + link.context.traceId.length + link.context.spanId.length)
      + attributesUpperBound(link.attributes, costs);
  }
  return bytes;
}

function attributesUpperBound(attributes: Attributes | undefined, costs: Costs): number {
  let bytes = 0;
  if (attributes === undefined) return bytes;
  for (const key of Object.keys(attributes)) bytes += VALUE_ENVELOPE_BYTES + costs.unit * key.length + valueUpperBound(attributes[key], costs, 0);
  return bytes;
}

function valueUpperBound(value: unknown, costs: Costs, depth: number): number {
  if (depth > MAX_VALUE_DEPTH || value === null || typeof value !== 'object') {
    return VALUE_ENVELOPE_BYTES + (typeof value === 'string' ? costs.unit * value.length : 0);
  }
  if (value instanceof Uint8Array) return VALUE_ENVELOPE_BYTES + costs.byte * value.byteLength;
  let bytes = VALUE_ENVELOPE_BYTES;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) bytes += VALUE_ENVELOPE_BYTES + valueUpperBound(value[i], costs, depth + 1);
    return bytes;
  }
  for (const [key, item] of Object.entries(value)) bytes += VALUE_ENVELOPE_BYTES + costs.unit * key.length + valueUpperBound(item, costs, depth + 1);
  return bytes;
}
