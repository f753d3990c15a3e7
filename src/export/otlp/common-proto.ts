/**
 * The protobuf messages every OTLP signal shares: the resource and scope
 * envelopes around a signal's items, attributes (`KeyValue`/`AnyValue`) and
 * epoch-nanosecond times. Field numbers are those of opentelemetry-proto's
 * `common/v1/common.proto` and `resource/v1/resource.proto`; the envelopes'
 * numbers (`ResourceSpans` and `ResourceMetrics`: resource = 1, scope groups
 * = 2, schema_url = 3; `ScopeSpans` and `ScopeMetrics`: scope = 1, items = 2,
 * schema_url = 3) are the same in every signal's proto.
 *
 * Fields holding their proto3 default (0, '', absent) are left out, as a
 * protobuf encoder does, except inside `AnyValue`: its fields are a oneof,
 * where writing the value is what says which one is set (an empty string is
 * still a string).
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { anyValueKind, MAX_VALUE_DEPTH } from './any-value.js';
import type { ProtoSink } from './proto-sink.js';
import { unixNanosHalves } from './unix-nanos.js';

/** What identifies an instrumentation scope (a tracer's or a meter's). */
export interface ScopeFields {
  readonly name: string;
  readonly version?: string | undefined;
  readonly schemaUrl?: string | undefined;
}

/** A resource as the envelope writes it. */
export interface ResourceFields {
  readonly attributes: Attributes;
  /** '' when there is none. */
  readonly schemaUrl: string;
}

const RESOURCE_GROUP = { resource: 1, scopeGroups: 2, schemaUrl: 3 } as const;
const SCOPE_GROUP = { scope: 1, items: 2, schemaUrl: 3 } as const;
const RESOURCE = { attributes: 1 } as const;
const SCOPE = { name: 1, version: 2 } as const;
const KEY_VALUE = { key: 1, value: 2 } as const;
const ANY_VALUE = { string: 1, bool: 2, int: 3, double: 4, array: 5, kvlist: 6, bytes: 7 } as const;
/** `ArrayValue.values` and `KeyValueList.values`. */
const LIST_VALUES = 1;

/** The body of a `ResourceSpans`/`ResourceMetrics`: the resource, then one scope group per entry of `scopes`. */
export function writeResourceGroup<S>(out: ProtoSink, resource: ResourceFields, scopes: readonly S[], writeScopeGroup: (scope: S) => void): void {
  out.message(RESOURCE_GROUP.resource, () => writeAttributes(out, RESOURCE.attributes, resource.attributes));
  for (const scope of scopes) out.message(RESOURCE_GROUP.scopeGroups, () => writeScopeGroup(scope));
  if (resource.schemaUrl !== '') out.string(RESOURCE_GROUP.schemaUrl, resource.schemaUrl);
}

/** The body of a `ScopeSpans`/`ScopeMetrics`: the scope, then one item message per entry of `items`. */
export function writeScopeGroup<T>(out: ProtoSink, scope: ScopeFields, items: readonly T[], writeItem: (item: T) => void): void {
  out.message(SCOPE_GROUP.scope, () => {
    if (scope.name) out.string(SCOPE.name, scope.name);
    if (scope.version) out.string(SCOPE.version, scope.version);
  });
  for (const item of items) out.message(SCOPE_GROUP.items, () => writeItem(item));
  if (scope.schemaUrl) out.string(SCOPE_GROUP.schemaUrl, scope.schemaUrl);
}

/** A fixed64 epoch-nanosecond time; left out when it is 0. */
export function writeTime(out: ProtoSink, field: number, time: HrTime): void {
  const [low, high] = unixNanosHalves(time);
  if (low !== 0 || high !== 0) out.fixed64(field, low, high);
}

/** Attributes as repeated `KeyValue`; a missing (undefined or null) value is no attribute. */
export function writeAttributes(out: ProtoSink, field: number, attributes: Attributes | undefined): void {
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
