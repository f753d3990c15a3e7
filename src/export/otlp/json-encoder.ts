/**
 * `ExportTraceServiceRequest` in OTLP/JSON (`http/json`): the protobuf JSON
 * mapping with OTLP's own rules — lowerCamelCase field names, trace and span
 * ids as hex (not base64), enums as integers, 64-bit integers as decimal
 * strings, non-finite doubles as "NaN"/"Infinity"/"-Infinity", bytes values
 * as base64. Fields holding their default are left out (as in the protobuf
 * encoding), except `attributes`, always present so readers can iterate it.
 */
import type { Attributes, HrTime, Link, SpanStatus } from '@opentelemetry/api';
import type { FinishedSpan, SpanEventData } from '../../trace/span-data.js';
import { anyValueKind, MAX_VALUE_DEPTH, otlpSpanKind, spanFlags, traceStateOf } from './span-fields.js';
import { groupSpans, type ResourceGroup, type ScopeGroup } from './span-groups.js';
import { unixNanosString } from './unix-nanos.js';

/** One OTLP/JSON value; an undefined field is left out of the text. */
type JsonObject = { [key: string]: JsonValue | undefined };
type JsonValue = string | number | boolean | JsonValue[] | JsonObject;

/** The request body for these spans, as UTF-8 JSON. */
export function encodeJsonTraceRequest(spans: readonly FinishedSpan[]): Buffer {
  return Buffer.from(jsonTraceRequestText(spans), 'utf8');
}

export function jsonTraceRequestText(spans: readonly FinishedSpan[]): string {
  return JSON.stringify({ resourceSpans: groupSpans(spans).map(resourceSpans) });
}

/*
 * Objects are written as literals of one shape each, with `undefined` for a
 * field left out: JSON.stringify omits those, and one shape per kind of
 * object keeps property access fast.
 */

function resourceSpans(group: ResourceGroup): JsonObject {
  return {
    resource: { attributes: keyValues(group.attributes) },
    scopeSpans: group.scopes.map(scopeSpans),
    schemaUrl: group.schemaUrl || undefined,
  };
}

function scopeSpans({ scope, spans }: ScopeGroup): JsonObject {
  return {
    scope: { name: scope.name || undefined, version: scope.version || undefined },
    spans: spans.map(span),
    schemaUrl: scope.schemaUrl || undefined,
  };
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

function timeText(time: HrTime): string | undefined {
  const nanos = unixNanosString(time);
  return nanos === '0' ? undefined : nanos;
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

/** Attributes as `KeyValue`s; a missing (undefined or null) value is no attribute. */
function keyValues(attributes: Attributes | undefined): JsonObject[] {
  const out: JsonObject[] = [];
  if (attributes === undefined) return out;
  for (const key of Object.keys(attributes)) {
    const value: unknown = attributes[key];
    if (value === undefined || value === null) continue;
    out.push({ key, value: anyValue(value, 0) });
  }
  return out;
}

function anyValue(value: unknown, depth: number): JsonObject {
  const kind = depth > MAX_VALUE_DEPTH ? 'empty' : anyValueKind(value);
  switch (kind) {
    case 'string':
      return { stringValue: value as string };
    case 'bool':
      return { boolValue: value as boolean };
    case 'int':
      return { intValue: int64Text(value as number) };
    case 'double':
      return { doubleValue: doubleJson(value as number) };
    case 'bytes':
      return { bytesValue: Buffer.from((value as Uint8Array).buffer, (value as Uint8Array).byteOffset, (value as Uint8Array).byteLength).toString('base64') };
    case 'array':
      // Array.from visits holes of a sparse array (as undefined → empty value), as the protobuf encoding does.
      return { arrayValue: { values: Array.from(value as unknown[], (item) => anyValue(item, depth + 1)) } };
    case 'kvlist':
      return {
        kvlistValue: { values: Object.entries(value as object).map(([key, item]) => ({ key, value: anyValue(item, depth + 1) })) },
      };
    case 'empty':
      return {};
  }
}

/** Exact decimal digits: `String(2 ** 62)` would round to 17 significant digits. */
function int64Text(value: number): string {
  return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
}

function doubleJson(value: number): number | string {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}
