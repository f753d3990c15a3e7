/**
 * `ExportTraceServiceRequest` in the protobuf wire format (OTLP/HTTP
 * `http/protobuf`). Field numbers are those of opentelemetry-proto's
 * `collector/trace/v1/trace_service.proto` and `trace/v1/trace.proto`; the
 * envelopes and attributes are written as every signal writes them
 * (`common-proto.ts`), defaults left out likewise.
 */
import type { Link, SpanStatus } from '@opentelemetry/api';
import type { FinishedSpan, SpanEventData } from '../../trace/span-data.js';
import { writeAttributes, writeResourceGroup, writeScopeGroup, writeTime } from './common-proto.js';
import { encodeProto, protoSize, type ProtoSink } from './proto-sink.js';
import { otlpSpanKind, spanFlags, traceStateOf } from './span-fields.js';
import { groupSpans, type ResourceGroup } from './span-groups.js';

/** Field numbers, per message. */
const REQUEST = { resourceSpans: 1 } as const;
const SPAN = {
  traceId: 1, spanId: 2, traceState: 3, parentSpanId: 4, name: 5, kind: 6, startTime: 7, endTime: 8, attributes: 9,
  droppedAttributes: 10, events: 11, droppedEvents: 12, links: 13, droppedLinks: 14, status: 15, flags: 16,
} as const;
const EVENT = { time: 1, name: 2, attributes: 3, droppedAttributes: 4 } as const;
const LINK = { traceId: 1, spanId: 2, traceState: 3, attributes: 4, droppedAttributes: 5, flags: 6 } as const;
const STATUS = { message: 2, code: 3 } as const;

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
  for (const group of groups) {
    out.message(REQUEST.resourceSpans, () => writeResourceGroup(out, group, group.scopes, (scopeGroup) => {
      writeScopeGroup(out, scopeGroup.scope, scopeGroup.spans, (span) => writeSpan(out, span));
    }));
  }
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
