/**
 * An attribute set as a series of a metric is known by: its valid
 * attributes in key order, so `{a, b}` and `{b, a}` are one series. The key
 * is computed on every measurement; the copy that a new series keeps is made
 * only once, so later changes to the caller's object do not reach it.
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';

/** What an attribute set is when a metric has no room for another one. */
export const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });
/** Never the key of a real set: those are '' or start with a digit. */
export const OVERFLOW_KEY = 'overflow';

function isPrimitive(value: unknown): value is string | number | boolean {
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean';
}

/** The values the API allows: a primitive, or an array of primitives (null and undefined items included). */
function isAttributeValue(value: unknown): value is AttributeValue {
  if (isPrimitive(value)) return true;
  return Array.isArray(value) && value.every((item) => item === null || item === undefined || isPrimitive(item));
}

/** The keys of the valid attributes, sorted. */
function validKeys(attributes: Attributes): string[] {
  return Object.keys(attributes).filter((key) => isAttributeValue(attributes[key])).sort();
}

/**
 * The series key of an attribute set. Every piece is prefixed with its
 * length (and each value with its type), so no two distinct sets share a
 * key, without escaping anything: this runs on every measurement.
 */
export function attributeSetKey(attributes: Attributes | undefined): string {
  if (attributes === undefined) return '';
  let key = '';
  for (const name of validKeys(attributes)) key += `${name.length}:${name}${valueKey(attributes[name] as AttributeValue)}`;
  return key;
}

function valueKey(value: AttributeValue): string {
  switch (typeof value) {
    case 'string':
      return `s${value.length}:${value}`;
    case 'number':
      return `n${value};`;
    case 'boolean':
      return value ? 't' : 'f';
    default: {
      const text = JSON.stringify(value);
      return `a${text.length}:${text}`;
    }
  }
}

/** A frozen copy of the valid attributes, in key order. */
export function attributeSetCopy(attributes: Attributes | undefined): Attributes {
  const copy: Attributes = {};
  if (attributes !== undefined) {
    for (const key of validKeys(attributes)) {
      const value = attributes[key];
      copy[key] = Array.isArray(value) ? [...value] as AttributeValue : value;
    }
  }
  return Object.freeze(copy);
}
