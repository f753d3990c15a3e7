import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonNestingExceeds, scanJsonNesting } from '../../src/content/json-nesting.js';
import { MAX_JSON_DEPTH, safeStringify, tooDeepMarker } from '../../src/content/safe-json.js';
import { setupMoaTracing, startMoaTurn } from '../../src/index.js';
import { parseRecordLine } from '../../src/offline/reader.js';

/** `{ role, content, nested: [[[ … { leaf: true } … ]]] }` with `depth` arrays. */
function deepMessage(depth: number): Record<string, unknown> {
  let value: unknown = { leaf: true };
  for (let i = 0; i < depth; i++) value = [value];
  return { role: 'user', content: 'see attachment', nested: value };
}

/** Follows the first element of nested arrays; returns the depth walked and what is at the bottom. */
function bottom(value: unknown): { arrays: number; at: unknown } {
  let arrays = 0;
  let at = value;
  while (Array.isArray(at)) {
    arrays += 1;
    at = at[0];
  }
  return { arrays, at };
}

describe('safeStringify: nesting deeper than readers can walk', () => {
  for (const depth of [600, 5_000, 100_000]) {
    it(`${depth} levels: the over-deep subtree becomes a marker, the rest stays, the list stays a list`, () => {
      const messages = [{ role: 'system', content: 'first' }, deepMessage(depth), { role: 'user', content: 'last' }];
      const text = safeStringify(messages);
      expect(jsonNestingExceeds(text, MAX_JSON_DEPTH)).toBe(false);
      const parsed = JSON.parse(text) as Array<Record<string, unknown>>;
      expect(Array.isArray(parsed)).toBe(true);
      expect(parsed[0]).toEqual({ role: 'system', content: 'first' });
      expect(parsed[2]).toEqual({ role: 'user', content: 'last' });
      expect(parsed[1]).toMatchObject({ role: 'user', content: 'see attachment' });
      // The list is level 1, the message 2, its arrays 3 and on: 498 of them fit under 500.
      expect(bottom(parsed[1]!.nested)).toEqual({ arrays: MAX_JSON_DEPTH - 2, at: tooDeepMarker(MAX_JSON_DEPTH) });
    });
  }

  it('leaves nesting within the bound exactly as JSON.stringify writes it', () => {
    const messages = [deepMessage(MAX_JSON_DEPTH - 3)];
    expect(safeStringify(messages)).toBe(JSON.stringify(messages));
  });

  it('a value too long for one string (bound injected) is cut with markers, not turned into a string', () => {
    const messages = [{ role: 'user', content: 'a'.repeat(20_000) }, { role: 'assistant', content: 'b'.repeat(5_000) }];
    const text = safeStringify(messages, undefined, { maxLength: 10_000 });
    expect(text.length).toBeLessThanOrEqual(10_000);
    const parsed = JSON.parse(text) as Array<{ role: string; content: string }>;
    expect(parsed.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(parsed[0]?.content).toMatch(/^a+…\[moa-otel: truncated \d+ chars\]$/);
  });
});

describe('scanJsonNesting', () => {
  it('counts brackets of the structure only, not inside strings (escaped quotes included)', () => {
    expect(scanJsonNesting('[{"a":"[[[{{{","b":"\\"[[[\\\\","c":[1]}]')).toEqual({ deepest: 3, unclosed: false });
    expect(scanJsonNesting('{"ts":1,"references":[{"label":"x","output":"cut here')).toEqual({ deepest: 3, unclosed: true });
    expect(scanJsonNesting('{"ts":1,"references":[{"label":"x"}')).toEqual({ deepest: 3, unclosed: true });
    expect(jsonNestingExceeds(`${'['.repeat(1001)}${']'.repeat(1001)}`, 1000)).toBe(true);
    expect(jsonNestingExceeds(`${'['.repeat(1000)}${']'.repeat(1000)}`, 1000)).toBe(false);
  });
});

describe('a turn whose messages nest 5,000 levels deep', () => {
  it('is written as a schema-valid record with the deep part marked', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-deep-'));
    const tracing = setupMoaTracing({ save_traces: true, trace_dir: dir }, { env: {}, ignoreConfigFile: true, registerGlobal: false });
    try {
      const turn = startMoaTurn({ sessionId: 'deep', preset: 'p', instrumentation: tracing.instrumentation });
      turn.startReference({ index: 0, model: 'm', provider: 'p', messages: [deepMessage(5_000)] as never }).end({ output: 'ok' });
      turn.startAggregator({ model: 'agg', provider: 'p', messages: [{ role: 'user', content: 'q' }] }).end({ output: 'done' });
      turn.end();
      const parsed = parseRecordLine(readFileSync(path.join(dir, 'deep.jsonl'), 'utf8').trim());
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) return;
      const message = parsed.record.references[0]?.input_messages[0] as Record<string, unknown>;
      expect(message).toMatchObject({ role: 'user', content: 'see attachment' });
      expect(bottom(message.nested).at).toBe(tooDeepMarker(MAX_JSON_DEPTH));
      expect(parsed.record.aggregator.output).toBe('done');
    } finally {
      await tracing.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
