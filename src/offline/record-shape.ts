/**
 * The fast way a parsed line becomes a turn record: a hand-written walk over
 * the fields of `turnRecordSchema` that returns what the schema would return
 * (or "not sure"), at a fraction of what running the schema costs per line.
 * The schema stays the one contract: the keys, their order and which are
 * required are read from it, and every value this check is not sure of (a
 * wrong type, a key it has no test for, a session id given as a number) goes
 * to the schema itself, which accepts it or names the problem as before.
 *
 * The schema returns loose objects with its own keys first, in its order,
 * and the others after them: an object whose keys already come in that order
 * is returned as it is, another is copied into that order, so a record reads
 * the same either way, down to the order of its keys
 * (`test/offline/record-shape.test.ts` compares the two on many variants).
 */
import type { z } from 'zod';
import {
  aggregatorRecordSchema, referenceRecordSchema, turnRecordSchema, type TurnRecord,
} from '../record/schema.js';

/** What a check returns for a value it is not sure of. */
const UNSURE: unique symbol = Symbol('unsure');
/** A value's check: the value as the schema returns it (often the same one), or UNSURE. */
type Check = (value: unknown) => unknown;
type Test = (value: unknown) => boolean;

interface KeyRule {
  /** Position among the schema's keys. */
  index: number;
  check: Check;
  required: boolean;
}

interface Rules {
  keys: Map<string, KeyRule>;
  /** The schema's keys in its order. */
  order: readonly string[];
  required: number;
}

const leaf = (test: Test): Check => (v) => (test(v) ? v : UNSURE);
const isNumber: Test = (v) => typeof v === 'number' && Number.isFinite(v);
const isString: Test = (v) => typeof v === 'string';
const nullable = (test: Test): Test => (v) => v === null || test(v);
const oneOf = (...values: string[]): Test => (v) => typeof v === 'string' && values.includes(v);
/** The decimal strings the schema's cost accepts (the original writer's form). */
const DECIMAL_TEXT = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
const isCost: Test = (v) => v === null || isNumber(v) || (typeof v === 'string' && DECIMAL_TEXT.test(v));
const number = leaf(isNumber);
const string = leaf(isString);
const boolean = leaf((v) => typeof v === 'boolean');
const nullableNumber = leaf(nullable(isNumber));
const nullableString = leaf(nullable(isString));

/** Rules for a loose object's keys: order and required keys from the schema, a check per key from the table. */
function rulesOf(schema: z.ZodObject, checks: Record<string, Check>): Rules {
  const keys = new Map<string, KeyRule>();
  const order = Object.keys(schema.shape);
  order.forEach((key, index) => {
    const field = (schema.shape as Record<string, z.ZodType>)[key] as z.ZodType;
    // A key of the schema without a check here: its values go to the schema (never "sure").
    keys.set(key, { index, check: checks[key] ?? (() => UNSURE), required: !field.safeParse(undefined).success });
  });
  return { keys, order, required: [...keys.values()].filter((rule) => rule.required).length };
}

/**
 * A loose object as the schema returns it: the same object when its keys
 * already come in the schema's order (the others after them) and its nested
 * values come back unchanged, else a copy in that order, as the schema makes
 * one. The parsed value is never modified.
 */
function looseObject(rules: Rules): Check {
  return (value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return UNSURE;
    const record = value as Record<string, unknown>;
    let lastIndex = -1;
    let others = false;
    let same = true;
    let changed: Map<string, unknown> | undefined;
    let required = 0;
    for (const key of Object.keys(record)) {
      const rule = rules.keys.get(key);
      if (rule === undefined) {
        // The schema copies other keys by assignment: `__proto__` would not survive that as a key.
        if (key === '__proto__') return UNSURE;
        others = true;
        continue;
      }
      if (others || rule.index < lastIndex) same = false;
      lastIndex = rule.index;
      const before = record[key];
      const checked = rule.check(before);
      if (checked === UNSURE) return UNSURE;
      if (checked !== before) (changed ??= new Map()).set(key, checked);
      if (rule.required) required += 1;
    }
    if (required !== rules.required) return UNSURE;
    return same && changed === undefined ? record : inSchemaOrder(record, rules, changed);
  };
}

function inSchemaOrder(record: Record<string, unknown>, rules: Rules, changed: Map<string, unknown> | undefined): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of rules.order) if (Object.hasOwn(record, key)) copy[key] = changed?.has(key) ? changed.get(key) : record[key];
  for (const key of Object.keys(record)) if (!rules.keys.has(key)) copy[key] = record[key];
  return copy;
}

/** An array whose items pass `check`: the same array when they all come back unchanged, else a copy. */
function arrayOf(check: Check): Check {
  return (value) => {
    if (!Array.isArray(value)) return UNSURE;
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const before: unknown = value[i];
      const checked = check(before);
      if (checked === UNSURE) return UNSURE;
      if (checked !== before) (copy ??= value.slice())[i] = checked;
    }
    return copy ?? value;
  };
}

const usageRules = rulesOf(referenceRecordSchema.shape.usage, {
  input_tokens: nullableNumber,
  output_tokens: nullableNumber,
  cache_read_tokens: nullableNumber,
  cache_write_tokens: nullableNumber,
  reasoning_tokens: nullableNumber,
});

const callChecks: Record<string, Check> = {
  label: string,
  model: nullableString,
  provider: nullableString,
  temperature: nullableNumber,
  // Elements of any kind, kept as they are: the schema copies the list, not its items.
  input_messages: leaf(Array.isArray),
  output: nullableString,
  usage: looseObject(usageRules),
  cost_usd: leaf(isCost),
  cost_status: nullableString,
  cost_source: nullableString,
  started_at: nullableNumber,
  ended_at: nullableNumber,
  duration_ms: nullableNumber,
  span_id: string,
  error: nullableString,
};

const referenceRules = rulesOf(referenceRecordSchema, callChecks);
const aggregatorRules = rulesOf(aggregatorRecordSchema, {
  ...callChecks,
  streamed: boolean,
  output_location: leaf(oneOf('inline', 'inline_from_stream', 'assistant_message_in_session_db')),
  tool_calls: leaf(nullable(Array.isArray)),
  finish_reason: nullableString,
});

const turnRules = rulesOf(turnRecordSchema, {
  ts: number,
  // A number is turned into its text by the schema: left to it.
  session_id: nullableString,
  preset: string,
  references: arrayOf(looseObject(referenceRules)),
  aggregator: looseObject(aggregatorRules),
  trace_id: nullableString,
  span_id: nullableString,
  started_at: nullableNumber,
  duration_ms: nullableNumber,
  cache: leaf(oneOf('miss', 'hit')),
  fanout: string,
  iteration: number,
  partial: boolean,
  partial_reason: string,
});
const turnRecord = looseObject(turnRules);

/**
 * `value` as the turn record the schema would return for it (the value
 * itself, or a copy where the schema would reorder keys); null when not sure
 * (then the schema decides).
 */
export function recordAsIs(value: unknown): TurnRecord | null {
  const record = turnRecord(value);
  return record === UNSURE ? null : (record as TurnRecord);
}
