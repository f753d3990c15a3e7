/**
 * `ExportTraceServiceRequest` in the protobuf wire format (OTLP/HTTP
 * `http/protobuf`). Field numbers are those of opentelemetry-proto's
 * `collector/trace/v1/trace_service.proto`, `trace/v1/trace.proto`,
 * `common/v1/common.proto` and `resource/v1/resource.proto`.
 *
 * Fields holding their proto3 default (0, '', absent) are left out, as a
 * protobuf encoder does, except inside `AnyValue`: its fields are a oneof,
 * where writing the value is what says which one is set (an empty string is
 * still a string).
 */
import type { Attributes, HrTime, Link, SpanStatus } from '@opentelemetry/api';
import type { FinishedSpan, SpanEventData } from '../../trace/span-data.js';
import { encodeProto, protoSize, type ProtoSink } from './proto-sink.js';
import { anyValueKind, MAX_VALUE_DEPTH, otlpSpanKind, spanFlags, traceStateOf } from './span-fields.js';
import { groupSpans, type ResourceGroup, type ScopeGroup, type SpanScope } from './span-groups.js';
import { unixNanosHalves } from './unix-nanos.js';

/** Field numbers, per message. */
const REQUEST = { resourceSpans: 1 } as const;
const RESOURCE_SPANS = { resource: 1, scopeSpans: 2, schemaUrl: 3 } as const;
const RESOURCE = { attributes: 1 } as const;
const SCOPE_SPANS = { scope: 1, spans: 2, schemaUrl: 3 } as const;
const SCOPE = { name: 1, version: 2 } as const;
const SPAN = {
  traceId: 1, spanId: 2, traceState: 3, parentSpanId: 4, name: 5, kind: 6, startTime: 7, endTime: 8, attributes: 9,
  droppedAttributes: 10, events: 11, droppedEvents: 12, links: 13, droppedLinks: 14, status: 15, flags: 16,
} as const;
const EVENT = { time: 1, name: 2, attributes: 3, droppedAttributes: 4 } as const;
const LINK = { traceId: 1, spanId: 2, traceState: 3, attributes: 4, droppedAttributes: 5, flags: 6 } as const;
const STATUS = { message: 2, code: 3 } as const;
const KEY_VALUE = { key: 1, value: 2 } as const;
const ANY_VALUE = { string: 1, bool: 2, int: 3, double: 4, array: 5, kvlist: 6, bytes: 7 } as const;
/** `ArrayValue.values` and `KeyValueList.values`. */
const LIST_VALUES = 1;

/** The request body for these spans. */
export function encodeProtobufTraceRequest(spans: readonly FinishedSpan[]): Buffer {
  const groups = groupSpans(spans);
  return encodeProto((out) => writeRequest(out, groups));
}

/** The size `encodeProtobufTraceRequest` would produce, without building the body. */
export function protobufTraceRequestBytes(spans: readonly FinishedSpan[]): number {
  const groups = groupSpans(spans);
  return protoSize((out) => writeRequest(out, groups));
}

function writeRequest(out: ProtoSink, groups: readonly ResourceGroup[]): void {
  for (const group of groups) out.message(REQUEST.resourceSpans, () => writeResourceSpans(out, group));
}

function writeResourceSpans(out: ProtoSink, group: ResourceGroup): void {
  out.message(RESOURCE_SPANS.resource, () => writeAttributes(out, RESOURCE.attributes, group.attributes));
  for (const scopeGroup of group.scopes) out.message(RESOURCE_SPANS.scopeSpans, () => writeScopeSpans(out, scopeGroup));
  if (group.schemaUrl !== '') out.string(RESOURCE_SPANS.schemaUrl, group.schemaUrl);
}

function writeScopeSpans(out: ProtoSink, group: ScopeGroup): void {
  out.message(SCOPE_SPANS.scope, () => writeScope(out, group.scope));
  for (const span of group.spans) out.message(SCOPE_SPANS.spans, () => writeSpan(out, span));
  if (group.scope.schemaUrl) out.string(SCOPE_SPANS.schemaUrl, group.scope.schemaUrl);
}

function writeScope(out: ProtoSink, scope: SpanScope): void {
  if (scope.name) out.string(SCOPE.name, scope.name);
  if (scope.version) out.string(SCOPE.version, scope.version);
}

function writeSpan(out: ProtoSink, span: FinishedSpan): void {
  const context = span.spanContext();
  out.hexBytes(SPAN.traceId, context.traceId);
  out.hexBytes(SPAN.spanId, context.spanId);
  const traceState = traceStateOf(context);
  if (traceState !== '') out.string(SPAN.traceState, traceState);
  const parentSpanId = span.parentSpanContext?.spanId;
  if (parentSpanId) out.hexBytes(SPAN.parentSpanId, parentSpanId);
  if (span.name) out.string(SPAN.name, span.name);
  const kind = otlpSpanKind(span.kind);
  if (kind !== 0) out.uint(SPAN.kind, kind);
  writeTime(out, SPAN.startTime, span.startTime);
  writeTime(out, SPAN.endTime, span.endTime);
  writeAttributes(out, SPAN.attributes, span.attributes);
  if (span.droppedAttributesCount) out.uint(SPAN.droppedAttributes, span.droppedAttributesCount);
  for (const event of span.events) out.message(SPAN.events, () => writeEvent(out, event));
  if (span.droppedEventsCount) out.uint(SPAN.droppedEvents, span.droppedEventsCount);
  for (const link of span.links) out.message(SPAN.links, () => writeLink(out, link));
  if (span.droppedLinksCount) out.uint(SPAN.droppedLinks, span.droppedLinksCount);
  if (span.status.code || span.status.message) out.message(SPAN.status, () => writeStatus(out, span.status));
  out.fixed32(SPAN.flags, spanFlags(context.traceFlags, span.parentSpanContext?.isRemote));
}

function writeTime(out: ProtoSink, field: number, time: HrTime): void {
  const [low, high] = unixNanosHalves(time);
  if (low !== 0 || high !== 0) out.fixed64(field, low, high);
}

function writeEvent(out: ProtoSink, event: SpanEventData): void {
  writeTime(out, EVENT.time, event.time);
  if (event.name) out.string(EVENT.name, event.name);
  writeAttributes(out, EVENT.attributes, event.attributes);
  if (event.droppedAttributesCount) out.uint(EVENT.droppedAttributes, event.droppedAttributesCount);
}

function writeLink(out: ProtoSink, link: Link): void {
  out.hexBytes(LINK.traceId, link.context.traceId);
  out.hexBytes(LINK.spanId, link.context.spanId);
  const traceState = traceStateOf(link.context);
  if (traceState !== '') out.string(LINK.traceState, traceState);
  writeAttributes(out, LINK.attributes, link.attributes);
  if (link.droppedAttributesCount) out.uint(LINK.droppedAttributes, link.droppedAttributesCount);
  out.fixed32(LINK.flags, spanFlags(link.context.traceFlags, link.context.isRemote));
}

function writeStatus(out: ProtoSink, status: SpanStatus): void {
  if (status.message) out.string(STATUS.message, status.message);
  if (status.code) out.uint(STATUS.code, status.code);
}

/** Attributes as repeated `KeyValue`; a missing (undefined or null) value is no attribute. */
function writeAttributes(out: ProtoSink, field: number, attributes: Attributes | undefined): void {
  if (attributes === undefined) return;
  for (const key of Object.keys(attributes)) {
    const value: unknown = attributes[key];
    if (value === undefined || value === null) continue;
    out.message(field, () => writeKeyValue(out, key, value, 0));
  }
}

function writeKeyValue(out: ProtoSink, key: string, value: unknown, depth: number): void {
  if (key !== '') out.string(KEY_VALUE.key, key);
  out.message(KEY_VALUE.value, () => writeAnyValue(out, value, depth));
}

function writeAnyValue(out: ProtoSink, value: unknown, depth: number): void {
  const kind = depth > MAX_VALUE_DEPTH ? 'empty' : anyValueKind(value);
  switch (kind) {
    case 'string':
      return out.string(ANY_VALUE.string, value as string);
    case 'bool':
      return out.uint(ANY_VALUE.bool, value === true ? 1 : 0);
    case 'int':
      return out.int64(ANY_VALUE.int, value as number);
    case 'double':
      return out.double(ANY_VALUE.double, value as number);
    case 'bytes':
      return out.bytes(ANY_VALUE.bytes, value as Uint8Array);
    case 'array':
      return out.message(ANY_VALUE.array, () => {
        for (const item of value as unknown[]) out.message(LIST_VALUES, () => writeAnyValue(out, item, depth + 1));
      });
    case 'kvlist':
      return out.message(ANY_VALUE.kvlist, () => {
        for (const [key, item] of Object.entries(value as object)) {
          out.message(LIST_VALUES, () => writeKeyValue(out, key, item, depth + 1));
        }
      });
    case 'empty':
      return;
  }
}
