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

/** One OTLP/JSON value; objects are built field by field, so only what is set appears. */
type JsonObject = { [key: string]: JsonValue };
type JsonValue = string | number | boolean | JsonValue[] | JsonObject;

/** The request body for these spans, as UTF-8 JSON. */
export function encodeJsonTraceRequest(spans: readonly FinishedSpan[]): Buffer {
  return Buffer.from(jsonTraceRequestText(spans), 'utf8');
}

export function jsonTraceRequestText(spans: readonly FinishedSpan[]): string {
  return JSON.stringify({ resourceSpans: groupSpans(spans).map(resourceSpans) });
}

function resourceSpans(group: ResourceGroup): JsonObject {
  const out: JsonObject = { resource: { attributes: keyValues(group.attributes) }, scopeSpans: group.scopes.map(scopeSpans) };
  if (group.schemaUrl !== '') out.schemaUrl = group.schemaUrl;
  return out;
}

function scopeSpans({ scope, spans }: ScopeGroup): JsonObject {
  const jsonScope: JsonObject = {};
  if (scope.name) jsonScope.name = scope.name;
  if (scope.version) jsonScope.version = scope.version;
  const out: JsonObject = { scope: jsonScope, spans: spans.map(span) };
  if (scope.schemaUrl) out.schemaUrl = scope.schemaUrl;
  return out;
}

function span(source: FinishedSpan): JsonObject {
  const context = source.spanContext();
  const out: JsonObject = { traceId: context.traceId, spanId: context.spanId };
  const traceState = traceStateOf(context);
  if (traceState !== '') out.traceState = traceState;
  const parentSpanId = source.parentSpanContext?.spanId;
  if (parentSpanId) out.parentSpanId = parentSpanId;
  out.flags = spanFlags(context.traceFlags, source.parentSpanContext?.isRemote);
  if (source.name) out.name = source.name;
  const kind = otlpSpanKind(source.kind);
  if (kind !== 0) out.kind = kind;
  setTime(out, 'startTimeUnixNano', source.startTime);
  setTime(out, 'endTimeUnixNano', source.endTime);
  out.attributes = keyValues(source.attributes);
  setCount(out, 'droppedAttributesCount', source.droppedAttributesCount);
  if (source.events.length > 0) out.events = source.events.map(event);
  setCount(out, 'droppedEventsCount', source.droppedEventsCount);
  if (source.links.length > 0) out.links = source.links.map(link);
  setCount(out, 'droppedLinksCount', source.droppedLinksCount);
  const jsonStatus = status(source.status);
  if (jsonStatus !== undefined) out.status = jsonStatus;
  return out;
}

function setTime(out: JsonObject, name: string, time: HrTime): void {
  const nanos = unixNanosString(time);
  if (nanos !== '0') out[name] = nanos;
}

/** Counts are uint32: what the protobuf encoding would write for the same number. */
function setCount(out: JsonObject, name: string, count: number | undefined): void {
  if (count !== undefined && count > 0) out[name] = Math.floor(Math.min(count, Number.MAX_SAFE_INTEGER));
}

function event(source: SpanEventData): JsonObject {
  const out: JsonObject = {};
  setTime(out, 'timeUnixNano', source.time);
  if (source.name) out.name = source.name;
  out.attributes = keyValues(source.attributes);
  setCount(out, 'droppedAttributesCount', source.droppedAttributesCount);
  return out;
}

function link(source: Link): JsonObject {
  const out: JsonObject = { traceId: source.context.traceId, spanId: source.context.spanId };
  const traceState = traceStateOf(source.context);
  if (traceState !== '') out.traceState = traceState;
  out.attributes = keyValues(source.attributes);
  setCount(out, 'droppedAttributesCount', source.droppedAttributesCount);
  out.flags = spanFlags(source.context.traceFlags, source.context.isRemote);
  return out;
}

function status(source: SpanStatus): JsonObject | undefined {
  if (!source.code && !source.message) return undefined;
  const out: JsonObject = {};
  if (source.message) out.message = source.message;
  if (source.code) out.code = source.code;
  return out;
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
