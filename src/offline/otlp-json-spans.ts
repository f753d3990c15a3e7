/**
 * Spans out of one OTLP JSON `ExportTraceServiceRequest` (a line of the
 * collector's file exporter, or of `moa-otel export --out`), as the
 * `FinishedSpan` shape the JSONL writer builds records from.
 *
 * The protobuf JSON mapping is read leniently, as receivers do: ids in hex,
 * 64-bit numbers as strings or numbers, enums as integers or their names.
 */
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type AttributeValue, type HrTime } from '@opentelemetry/api';
import type { FinishedSpan, SpanEventData } from '../trace/span-data.js';

type Json = Record<string, unknown>;

export class OtlpRequestError extends Error {
  override readonly name = 'OtlpRequestError';
}

/**
 * What every string read from the request goes through: the identity, or
 * for a request parsed from UTF-8 bytes read as latin1 (cheaper to decode
 * and parse), the UTF-8 decoding of its characters (`utf8OfLatin1`).
 */
export type TextOf = (text: string) => string;

const asIs: TextOf = (text) => text;

/** Characters that, in text read as latin1, stand for bytes of multi-byte UTF-8 characters. */
const HIGH_BYTES = /[\x80-\xff]/;

/**
 * A string parsed from UTF-8 bytes read as latin1 (one character per byte),
 * as parsing the bytes read as UTF-8 gives it. Exact when the JSON text held
 * no `\u` escape of a character above U+007F (`cutInputMessageValues` says
 * when): every character above U+007F is then a byte of the UTF-8 text.
 */
export const utf8OfLatin1: TextOf = (text) => (HIGH_BYTES.test(text) ? Buffer.from(text, 'latin1').toString('utf8') : text);

/**
 * Every span of a request, with its resource and scope. Throws
 * `OtlpRequestError` when the value is no trace request.
 *
 * With `only`, the spans are for rebuilding turn records and nothing else:
 * attributes whose key is not in `only` are not decoded, nor are the names
 * of spans and events (left empty), which no record holds.
 */
export function spansOfRequest(request: unknown, textOf: TextOf = asIs, only?: ReadonlySet<string>): FinishedSpan[] {
  if (!isObject(request) || !Array.isArray(request.resourceSpans)) throw new OtlpRequestError('not an OTLP trace request: no "resourceSpans" list');
  const spans: FinishedSpan[] = [];
  for (const group of request.resourceSpans) {
    if (!isObject(group)) continue;
    const resource = { attributes: attributesOf(isObject(group.resource) ? group.resource.attributes : undefined, textOf, only) };
    // `instrumentationLibrarySpans` is the name before OTLP 0.15; old collectors' files still have it.
    const scopeGroups = Array.isArray(group.scopeSpans) ? group.scopeSpans : Array.isArray(group.instrumentationLibrarySpans) ? group.instrumentationLibrarySpans : [];
    for (const scopeGroup of scopeGroups) {
      if (!isObject(scopeGroup) || !Array.isArray(scopeGroup.spans)) continue;
      const scopeJson = isObject(scopeGroup.scope) ? scopeGroup.scope : isObject(scopeGroup.instrumentationLibrary) ? scopeGroup.instrumentationLibrary : {};
      const scope = { name: textOf(str(scopeJson.name) ?? ''), version: optionalText(str(scopeJson.version), textOf) };
      for (const span of scopeGroup.spans) {
        const decoded = isObject(span) ? decodeSpan(span, resource, scope, textOf, only) : null;
        if (decoded) spans.push(decoded);
      }
    }
  }
  return spans;
}

function optionalText(text: string | null, textOf: TextOf): string | undefined {
  return text === null ? undefined : textOf(text);
}

function decodeSpan(
  span: Json, resource: FinishedSpan['resource'], scope: FinishedSpan['instrumentationScope'], textOf: TextOf, only: ReadonlySet<string> | undefined,
): FinishedSpan | null {
  const traceId = hexId(span.traceId, 32, textOf);
  const spanId = hexId(span.spanId, 16, textOf);
  if (traceId === null || spanId === null) return null;
  const parentId = hexId(span.parentSpanId, 16, textOf);
  const startTime = hrTime(span.startTimeUnixNano);
  const endTime = hrTime(span.endTimeUnixNano);
  const context = { traceId, spanId, traceFlags: TraceFlags.SAMPLED };
  const statusJson = isObject(span.status) ? span.status : {};
  const events: SpanEventData[] = Array.isArray(span.events) && only === undefined
    ? span.events.filter(isObject).map((e) => ({ name: textOf(str(e.name) ?? ''), time: hrTime(e.timeUnixNano), attributes: attributesOf(e.attributes, textOf) }))
    : [];
  return {
    name: only === undefined ? textOf(str(span.name) ?? '') : '',
    kind: spanKind(span.kind),
    spanContext: () => context,
    parentSpanContext: parentId === null ? undefined : { traceId, spanId: parentId, traceFlags: TraceFlags.SAMPLED },
    startTime,
    endTime,
    duration: hrDifference(endTime, startTime),
    status: { code: statusCode(statusJson.code), message: optionalText(str(statusJson.message), textOf) },
    attributes: attributesOf(span.attributes, textOf, only),
    links: [],
    events,
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** The attributes of a key-value list; with `only`, those whose key it holds (its keys are ASCII: a key is compared as read). */
export function attributesOf(list: unknown, textOf: TextOf = asIs, only?: ReadonlySet<string>): Attributes {
  const attributes: Attributes = {};
  if (!Array.isArray(list)) return attributes;
  for (const kv of list) {
    // Not isObject: an array has no string `key` either.
    if (typeof kv !== 'object' || kv === null || typeof kv.key !== 'string') continue;
    if (only !== undefined && !only.has(kv.key)) continue;
    const wrapped: unknown = kv.value;
    // Most values are strings: read before the general case.
    const text = typeof wrapped === 'object' && wrapped !== null ? (wrapped as Json).stringValue : undefined;
    const value = typeof text === 'string' ? textOf(text) : anyValue(wrapped, textOf);
    if (value !== undefined) attributes[only === undefined ? textOf(kv.key) : kv.key] = value;
  }
  return attributes;
}

/** An `AnyValue` as an attribute value: primitives and homogeneous arrays of them; maps and bytes as JSON text. */
function anyValue(value: unknown, textOf: TextOf): AttributeValue | undefined {
  if (!isObject(value)) return undefined;
  if (typeof value.stringValue === 'string') return textOf(value.stringValue);
  if (typeof value.boolValue === 'boolean') return value.boolValue;
  if (value.intValue !== undefined) return toNumber(value.intValue);
  if (value.doubleValue !== undefined) return toNumber(value.doubleValue);
  if (isObject(value.arrayValue)) {
    const values = Array.isArray(value.arrayValue.values) ? value.arrayValue.values.map((item) => anyValue(item, textOf)) : [];
    return values.filter((v): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') as AttributeValue;
  }
  if (typeof value.bytesValue === 'string') return textOf(value.bytesValue);
  // The JSON text of a map holds its strings' characters as they are (none above U+007F is escaped): decoded whole.
  if (isObject(value.kvlistValue)) return textOf(JSON.stringify(value.kvlistValue));
  return undefined;
}

function toNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Hex as OTLP JSON writes ids; base64 (the generic protobuf JSON mapping) is accepted too. */
function hexId(raw: unknown, hexLength: number, textOf: TextOf): string | null {
  if (typeof raw !== 'string' || raw === '') return null;
  // As every OTLP JSON writer writes ids: lowercase hex, ASCII (no decoding to do).
  if (raw.length === hexLength && LOWER_HEX.test(raw)) return raw.charCodeAt(0) === ZERO_DIGIT && ZEROS.test(raw) ? null : raw;
  const value = textOf(raw);
  const lower = value.toLowerCase();
  if (lower.length === hexLength && /^[0-9a-f]+$/.test(lower)) return /^0+$/.test(lower) ? null : lower;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length * 2 === hexLength ? bytes.toString('hex') : null;
}

const LOWER_HEX = /^[0-9a-f]+$/;
const ZEROS = /^0+$/;
const ZERO_DIGIT = 0x30;

const NANOS = 1_000_000_000n;

/** Digit strings this short split into seconds and nanoseconds exactly as numbers (no BigInt per time). */
const PLAIN_DIGITS = /^\d{1,24}$/;

function hrTime(value: unknown): HrTime {
  if (typeof value === 'string' && PLAIN_DIGITS.test(value)) {
    // Up to 24 digits: each part has at most 15 and converts exactly; as BigInt division would give them.
    const split = value.length - 9;
    return split <= 0 ? [0, Number(value)] : [Number(value.slice(0, split)), Number(value.slice(split))];
  }
  let nanos: bigint;
  try {
    nanos = typeof value === 'string' && /^\d+$/.test(value) ? BigInt(value) : typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : 0n;
  } catch {
    nanos = 0n;
  }
  return [Number(nanos / NANOS), Number(nanos % NANOS)];
}

function hrDifference(end: HrTime, start: HrTime): HrTime {
  let seconds = end[0] - start[0];
  let nanos = end[1] - start[1];
  if (nanos < 0) {
    seconds -= 1;
    nanos += 1_000_000_000;
  }
  return seconds < 0 ? [0, 0] : [seconds, nanos];
}

const KIND_NAMES: Record<string, SpanKind> = {
  SPAN_KIND_INTERNAL: SpanKind.INTERNAL, SPAN_KIND_SERVER: SpanKind.SERVER, SPAN_KIND_CLIENT: SpanKind.CLIENT,
  SPAN_KIND_PRODUCER: SpanKind.PRODUCER, SPAN_KIND_CONSUMER: SpanKind.CONSUMER,
};

/** OTLP counts kinds from 1 (0 is "unspecified"); the API from INTERNAL = 0. */
function spanKind(value: unknown): SpanKind {
  if (typeof value === 'string') return KIND_NAMES[value] ?? SpanKind.INTERNAL;
  return typeof value === 'number' && value >= 1 && value <= 5 ? (value - 1) as SpanKind : SpanKind.INTERNAL;
}

function statusCode(value: unknown): SpanStatusCode {
  if (value === 2 || value === 'STATUS_CODE_ERROR') return SpanStatusCode.ERROR;
  if (value === 1 || value === 'STATUS_CODE_OK') return SpanStatusCode.OK;
  return SpanStatusCode.UNSET;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
