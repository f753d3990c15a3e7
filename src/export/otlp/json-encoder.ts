/**
 * `ExportTraceServiceRequest` in OTLP/JSON (`http/json`): the protobuf JSON
 * mapping with OTLP's own rules — lowerCamelCase field names, trace and span
 * ids as hex (not base64), enums as integers; the envelopes, attributes and
 * 64-bit numbers are written as every signal writes them (`common-json.ts`).
 */
import type { Link, SpanStatus } from '@opentelemetry/api';
import type { FinishedSpan, SpanEventData } from '../../trace/span-data.js';
import { keyValues, resourceGroupJson, scopeGroupJson, timeText, type JsonObject } from './common-json.js';
import { otlpSpanKind, spanFlags, traceStateOf } from './span-fields.js';
import { groupSpans, type ResourceGroup } from './span-groups.js';

/** The request body for these spans, as UTF-8 JSON. */
export function encodeJsonTraceRequest(spans: readonly FinishedSpan[]): Buffer {
  return Buffer.from(jsonTraceRequestText(spans), 'utf8');
}

export function jsonTraceRequestText(spans: readonly FinishedSpan[]): string {
  return JSON.stringify({ resourceSpans: groupSpans(spans).map(resourceSpans) });
}

function resourceSpans(group: ResourceGroup): JsonObject {
  return resourceGroupJson(group, 'scopeSpans', group.scopes.map(({ scope, spans }) => scopeGroupJson(scope, 'spans', spans.map(span))));
}

function span(source: FinishedSpan): JsonObject {
  const context = source.spanContext();
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    traceState: traceStateOf(context) || undefined,
    parentSpanId: source.parentSpanContext?.spanId || undefined,
    flags: spanFlags(context.traceFlags, source.parentSpanContext?.isRemote),
    name: source.name || undefined,
    kind: otlpSpanKind(source.kind) || undefined,
    startTimeUnixNano: timeText(source.startTime),
    endTimeUnixNano: timeText(source.endTime),
    attributes: keyValues(source.attributes),
    droppedAttributesCount: countOf(source.droppedAttributesCount),
    events: source.events.length > 0 ? source.events.map(event) : undefined,
    droppedEventsCount: countOf(source.droppedEventsCount),
    links: source.links.length > 0 ? source.links.map(link) : undefined,
    droppedLinksCount: countOf(source.droppedLinksCount),
    status: status(source.status),
  };
}

/** Counts are uint32: what the protobuf encoding would write for the same number. */
function countOf(count: number | undefined): number | undefined {
  return count !== undefined && count > 0 ? Math.floor(Math.min(count, Number.MAX_SAFE_INTEGER)) : undefined;
}

function event(source: SpanEventData): JsonObject {
  return {
    timeUnixNano: timeText(source.time),
    name: source.name || undefined,
    attributes: keyValues(source.attributes),
    droppedAttributesCount: countOf(source.droppedAttributesCount),
  };
}

function link(source: Link): JsonObject {
  return {
    traceId: source.context.traceId,
    spanId: source.context.spanId,
    traceState: traceStateOf(source.context) || undefined,
    attributes: keyValues(source.attributes),
    droppedAttributesCount: countOf(source.droppedAttributesCount),
    flags: spanFlags(source.context.traceFlags, source.context.isRemote),
  };
}

function status(source: SpanStatus): JsonObject | undefined {
  if (!source.code && !source.message) return undefined;
  return { message: source.message || undefined, code: source.code || undefined };
}
