/**
 * The OTLP/JSON pieces every signal shares: the resource and scope
 * envelopes, attributes (`KeyValue`/`AnyValue`) and the protobuf JSON
 * mapping's rules for 64-bit integers (decimal strings), non-finite doubles
 * ("NaN", "Infinity", "-Infinity") and bytes (base64). Fields holding their
 * default are left out (as in the protobuf encoding), except `attributes`,
 * always present so readers can iterate it.
 *
 * Objects are written as literals of one shape each, with `undefined` for a
 * field left out: JSON.stringify omits those, and one shape per kind of
 * object keeps property access fast.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { anyValueKind, MAX_VALUE_DEPTH } from './any-value.js';
import type { ResourceFields, ScopeFields } from './common-proto.js';
import { unixNanosString } from './unix-nanos.js';

/** One OTLP/JSON value; an undefined field is left out of the text. */
export type JsonObject = { [key: string]: JsonValue | undefined };
export type JsonValue = string | number | boolean | JsonValue[] | JsonObject;

/** A `ResourceSpans`/`ResourceMetrics`: `scopeGroupsKey` names the signal's scope groups (`scopeSpans`, `scopeMetrics`). */
export function resourceGroupJson(resource: ResourceFields, scopeGroupsKey: string, scopeGroups: JsonObject[]): JsonObject {
  return {
    resource: { attributes: keyValues(resource.attributes) },
    [scopeGroupsKey]: scopeGroups,
    schemaUrl: resource.schemaUrl || undefined,
  };
}

/** A `ScopeSpans`/`ScopeMetrics`: `itemsKey` names the signal's items (`spans`, `metrics`). */
export function scopeGroupJson(scope: ScopeFields, itemsKey: string, items: JsonObject[]): JsonObject {
  return {
    scope: { name: scope.name || undefined, version: scope.version || undefined },
    [itemsKey]: items,
    schemaUrl: scope.schemaUrl || undefined,
  };
}

/** An epoch-nanosecond time as a decimal string; left out when it is 0. */
export function timeText(time: HrTime): string | undefined {
  const nanos = unixNanosString(time);
  return nanos === '0' ? undefined : nanos;
}

/** Attributes as `KeyValue`s; a missing (undefined or null) value is no attribute. */
export function keyValues(attributes: Attributes | undefined): JsonObject[] {
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

/** Exact decimal digits of an integer: `String(2 ** 62)` would round to 17 significant digits. */
export function int64Text(value: number): string {
  return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
}

export function doubleJson(value: number): number | string {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}
