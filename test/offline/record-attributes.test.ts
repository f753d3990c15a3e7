/**
 * The OTLP reader of the commands that skip content decodes only the span
 * attributes in RECORD_ATTRIBUTES: an attribute the record builder reads
 * and the list misses would silently read as absent there.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as A from '../../src/trace/attributes.js';
import { attributesOf } from '../../src/offline/otlp-json-spans.js';
import { RECORD_ATTRIBUTES } from '../../src/offline/record-attributes.js';

/** The attribute keys a source file names as `A.NAME` (constants whose value has a dot: keys, not values such as 'moa'). */
function keysNamedIn(file: string): string[] {
  const source = readFileSync(new URL(file, import.meta.url), 'utf8');
  const names = new Set([...source.matchAll(/\bA\.([A-Z0-9_]+)\b/g)].map((m) => m[1] as string));
  return [...names].map((name) => (A as Record<string, unknown>)[name]).filter((v): v is string => typeof v === 'string' && v.includes('.'));
}

describe('RECORD_ATTRIBUTES', () => {
  it('holds every attribute the record builder and the OTLP turn assembly read', () => {
    const read = [...keysNamedIn('../../src/export/turn-record.ts'), A.MOA_REFERENCE_COUNT, A.MOA_ITERATION, A.MOA_REFERENCE_INDEX, A.MOA_ROLE];
    expect(read.length).toBeGreaterThan(20);
    expect(read.filter((key) => !RECORD_ATTRIBUTES.has(key))).toEqual([]);
  });

  it('decodes only those keys when asked to, the same values as without', () => {
    const list = [
      { key: A.MOA_ROLE, value: { stringValue: 'reference' } },
      { key: A.OUTPUT_VALUE, value: { stringValue: 'display text' } },
      { key: A.GEN_AI_USAGE_INPUT_TOKENS, value: { intValue: '12' } },
      { key: 'moa.timing', value: { stringValue: 'synthetic' } },
    ];
    const all = attributesOf(list);
    expect(Object.keys(all)).toHaveLength(4);
    expect(attributesOf(list, undefined, RECORD_ATTRIBUTES)).toEqual({ [A.MOA_ROLE]: 'reference', [A.GEN_AI_USAGE_INPUT_TOKENS]: 12 });
  });
});
