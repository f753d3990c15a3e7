/**
 * Decoding OTLP trace requests in tests with protobufjs — an implementation
 * independent of moa-otel's encoder — from the message definitions of
 * opentelemetry-proto (trace_service.proto, trace.proto, common.proto,
 * resource.proto; only the messages an ExportTraceServiceRequest holds).
 *
 * Two views:
 *  - `decodeProtobufTraceRequest`: the OTLP/JSON shape (hex ids, 64-bit
 *    integers as strings, enums as numbers) so tests read either encoding alike;
 *  - `canonicalTraceRequest`: every field with its value or its default, so
 *    two encoders that differ only in leaving defaults out compare equal.
 */
import protobuf from 'protobufjs';
import type { OtlpTraceRequest } from './otlp-receiver.js';

/** The messages every signal's request holds (common.proto, resource.proto), in package `otlp`. */
export const OTLP_COMMON_PROTO = `
syntax = "proto3";
package otlp;

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

const OTLP_TRACE_PROTO = `
syntax = "proto3";
package otlp;

message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }

message ResourceSpans {
  Resource resource = 1;
  repeated ScopeSpans scope_spans = 2;
  string schema_url = 3;
}
message ScopeSpans {
  InstrumentationScope scope = 1;
  repeated Span spans = 2;
  string schema_url = 3;
}
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

/** The common messages and a signal's own, in one root. */
export function otlpRoot(signalProto: string): protobuf.Root {
  const root = new protobuf.Root();
  protobuf.parse(OTLP_COMMON_PROTO, root);
  protobuf.parse(signalProto, root);
  root.resolveAll();
  return root;
}

const root = otlpRoot(OTLP_TRACE_PROTO);
const RequestType = root.lookupType('otlp.ExportTraceServiceRequest');

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
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
export function decodeProtobufTraceRequest(body: Uint8Array): OtlpTraceRequest {
  const message = RequestType.decode(body);
  const object = RequestType.toObject(message, { longs: String, enums: Number, bytes: String, arrays: true });
  return mapIds(object, base64ToHex) as OtlpTraceRequest;
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

function canonical(message: protobuf.Message): unknown {
  return canonicalObject(RequestType, message, base64ToHex);
}

/** Every field with its value or its default, int64s as strings, enums as numbers, absent sub-messages filled. */
export function canonicalObject(type: protobuf.Type, message: protobuf.Message, convertIds: (id: string) => string = (id) => id): unknown {
  const object = type.toObject(message, { longs: String, enums: Number, bytes: String, defaults: true, arrays: true });
  return mapIds(fillMessages(type, object), convertIds);
}

/** JSON text as protobufjs reads it: lone surrogates (which UTF-8 cannot carry) as U+FFFD, as a protobuf writer writes them. */
export function parseOtlpJson(body: Uint8Array): Record<string, unknown> {
  return JSON.parse(Buffer.from(body).toString('utf8'), (_key, value: unknown) => (typeof value === 'string' ? value.replace(LONE_SURROGATE, '\ufffd') : value)) as Record<string, unknown>;
}

/** A request body of either encoding as one comparable object: all defaults filled, ids as hex, int64s as strings. */
export function canonicalTraceRequest(body: Uint8Array, contentType: 'application/x-protobuf' | 'application/json'): unknown {
  if (contentType === 'application/x-protobuf') return canonical(RequestType.decode(body));
  const json = mapIds(parseOtlpJson(body), hexToBase64) as Record<string, unknown>;
  const message = RequestType.fromObject(json);
  // Through the wire format once, so JSON-only quirks (numbers given as strings) normalize as protobuf would.
  return canonical(RequestType.decode(RequestType.encode(message).finish()));
}
