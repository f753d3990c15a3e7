/**
 * Decoding OTLP requests in tests with protobufjs — an implementation
 * independent of moa-otel's encoders — from the message definitions of
 * opentelemetry-proto: common.proto and resource.proto here, with each
 * signal's request and envelopes; trace_service.proto and trace.proto for
 * traces (metrics: `otlp-metrics-proto.ts`).
 *
 * Two views of a request:
 *  - decoded: the OTLP/JSON shape (hex ids, 64-bit integers as strings,
 *    enums as numbers) so tests read either encoding alike;
 *  - canonical: every field with its value or its default, so two encoders
 *    that differ only in leaving defaults out compare equal.
 */
import protobuf from 'protobufjs';
import type { OtlpTraceRequest } from './otlp-receiver.js';

/** The messages every signal's request holds (common.proto, resource.proto). */
const OTLP_COMMON_PROTO = `
message Resource {
  repeated KeyValue attributes = 1;
  uint32 dropped_attributes_count = 2;
}
message InstrumentationScope {
  string name = 1;
  string version = 2;
  repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue {
  string key = 1;
  AnyValue value = 2;
}
`;

const OTLP_SPAN_PROTO = `
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  fixed32 flags = 16;
  string name = 5;
  SpanKind kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;
  repeated Event events = 11;
  uint32 dropped_events_count = 12;
  repeated Link links = 13;
  uint32 dropped_links_count = 14;
  Status status = 15;

  enum SpanKind {
    SPAN_KIND_UNSPECIFIED = 0;
    SPAN_KIND_INTERNAL = 1;
    SPAN_KIND_SERVER = 2;
    SPAN_KIND_CLIENT = 3;
    SPAN_KIND_PRODUCER = 4;
    SPAN_KIND_CONSUMER = 5;
  }
  message Event {
    fixed64 time_unix_nano = 1;
    string name = 2;
    repeated KeyValue attributes = 3;
    uint32 dropped_attributes_count = 4;
  }
  message Link {
    bytes trace_id = 1;
    bytes span_id = 2;
    string trace_state = 3;
    repeated KeyValue attributes = 4;
    uint32 dropped_attributes_count = 5;
    fixed32 flags = 6;
  }
}
message Status {
  reserved 1;
  string message = 2;
  StatusCode code = 3;
  enum StatusCode {
    STATUS_CODE_UNSET = 0;
    STATUS_CODE_OK = 1;
    STATUS_CODE_ERROR = 2;
  }
}
`;

/** What sets one signal's request apart: its name, the word of its envelopes, its item message and that message's definitions. */
export interface OtlpSignalProto {
  /** `ExportTraceServiceRequest`. */
  request: string;
  /** `Spans`: the envelopes are `ResourceSpans` (field `resource_spans`) and `ScopeSpans` (field `spans`). */
  envelope: string;
  /** `Span`. */
  item: string;
  /** The item message and whatever it uses beyond the common messages. */
  messages: string;
}

/** The request message of a signal; the resource and scope envelopes are the same shape in every signal's proto. */
export function otlpRequestType(signal: OtlpSignalProto): protobuf.Type {
  const { request, envelope, item } = signal;
  const field = envelope.toLowerCase();
  const envelopes = `
message ${request} { repeated Resource${envelope} resource_${field} = 1; }
message Resource${envelope} {
  Resource resource = 1;
  repeated Scope${envelope} scope_${field} = 2;
  string schema_url = 3;
}
message Scope${envelope} {
  InstrumentationScope scope = 1;
  repeated ${item} ${field} = 2;
  string schema_url = 3;
}
`;
  const root = new protobuf.Root();
  protobuf.parse(`syntax = "proto3";\npackage otlp;\n${OTLP_COMMON_PROTO}${envelopes}${signal.messages}`, root);
  root.resolveAll();
  return root.lookupType(`otlp.${request}`);
}

const TraceRequest = otlpRequestType({ request: 'ExportTraceServiceRequest', envelope: 'Spans', item: 'Span', messages: OTLP_SPAN_PROTO });

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** Ids are hex in OTLP/JSON, bytes in protobuf: those of spans, links and exemplars. */
const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

/** Applies `convert` to every id field (trace, span, parent span) of spans and links. */
function mapIds(request: unknown, convert: (id: string) => string): unknown {
  const visit = (value: unknown, key: string | undefined): unknown => {
    if (typeof value === 'string' && key !== undefined && ID_FIELDS.has(key)) return convert(value);
    if (Array.isArray(value)) return value.map((item) => visit(item, undefined));
    if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v, k)]));
    }
    return value;
  };
  return visit(request, undefined);
}

const base64ToHex = (id: string) => Buffer.from(id, 'base64').toString('hex');
const hexToBase64 = (id: string) => Buffer.from(id, 'hex').toString('base64');

/** A protobuf request body as the OTLP/JSON shape (throws on bytes that are not a valid request). */
export function decodeOtlpProtobuf(type: protobuf.Type, body: Uint8Array): unknown {
  const object = type.toObject(type.decode(body), { longs: String, enums: Number, bytes: String, arrays: true });
  return mapIds(object, base64ToHex);
}

export function decodeProtobufTraceRequest(body: Uint8Array): OtlpTraceRequest {
  return decodeOtlpProtobuf(TraceRequest, body) as OtlpTraceRequest;
}

/** Fills every absent sub-message (status, resource, scope) with its defaults, recursively. */
function fillMessages(type: protobuf.Type, object: Record<string, unknown>): Record<string, unknown> {
  for (const field of type.fieldsArray) {
    const fieldType = field.resolvedType;
    if (!(fieldType instanceof protobuf.Type)) continue;
    const value = object[field.name];
    if (field.repeated) {
      if (Array.isArray(value)) object[field.name] = value.map((item) => fillMessages(fieldType, item as Record<string, unknown>));
    } else if (value !== null && value !== undefined) {
      object[field.name] = fillMessages(fieldType, value as Record<string, unknown>);
    } else if (field.partOf === null) {
      object[field.name] = fillMessages(fieldType, fieldType.toObject(fieldType.create({}), { defaults: true, arrays: true }));
    }
  }
  return object;
}

/** Every field with its value or its default, int64s as strings, enums as numbers, ids as hex, absent sub-messages filled. */
function canonicalObject(type: protobuf.Type, message: protobuf.Message): unknown {
  const object = type.toObject(message, { longs: String, enums: Number, bytes: String, defaults: true, arrays: true });
  return mapIds(fillMessages(type, object), base64ToHex);
}

/** JSON text as protobufjs reads it: lone surrogates (which UTF-8 cannot carry) as U+FFFD, as a protobuf writer writes them. */
function parseOtlpJson(body: Uint8Array): Record<string, unknown> {
  return JSON.parse(Buffer.from(body).toString('utf8'), (_key, value: unknown) => (typeof value === 'string' ? value.replace(LONE_SURROGATE, '\ufffd') : value)) as Record<string, unknown>;
}

export type OtlpContentType = 'application/x-protobuf' | 'application/json';

/** A request body of either encoding as one comparable object: all defaults filled, ids as hex, int64s as strings. */
export function canonicalOtlpRequest(type: protobuf.Type, body: Uint8Array, contentType: OtlpContentType): unknown {
  if (contentType === 'application/x-protobuf') return canonicalObject(type, type.decode(body));
  const message = type.fromObject(mapIds(parseOtlpJson(body), hexToBase64) as Record<string, unknown>);
  // Through the wire format once, so JSON-only quirks (numbers given as strings) normalize as protobuf would.
  return canonicalObject(type, type.decode(type.encode(message).finish()));
}

export function canonicalTraceRequest(body: Uint8Array, contentType: OtlpContentType): unknown {
  return canonicalOtlpRequest(TraceRequest, body, contentType);
}
