/**
 * A message of megabytes is serialized a slice at a time, to the very bytes
 * `JSON.stringify` gives; a 10 MB message is no longer one block, and its
 * content id (compact files) is hashed in slices to the same id.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageCache } from '../../src/content/message-cache.js';
import { snapshotJson } from '../../src/content/json-snapshot.js';
import { contentIdInSlices } from '../../src/export/compact-line.js';
import { JsonlSpanProcessor } from '../../src/export/jsonl-exporter.js';
import { slicedJsonBytes } from '../../src/export/sliced-json.js';
import { messageId } from '../../src/record/compact-format.js';
import { MoaInstrumentation } from '../../src/trace/instrumentation.js';

function run<T>(work: Generator<'step', T, undefined>): { value: T; pauses: number } {
  let pauses = 0;
  for (;;) {
    const next = work.next();
    if (next.done) return { value: next.value, pauses };
    pauses += 1;
  }
}

/** What the sliced serializer gives for `value`'s snapshot, as text (without the leading comma). */
function sliced(value: unknown, sliceChars: number): string | undefined {
  const snapshot = snapshotJson(value);
  const bytes = run(slicedJsonBytes(snapshot ? snapshot.copy : value, sliceChars)).value;
  return bytes?.subarray(1).toString('utf8');
}

describe('slicedJsonBytes', () => {
  const awkward = [
    'a\uD83D\uDE00b', // a pair
    '\uD83D', '\uDE00x', 'x\uDBFF', // lone halves
    '\u2028\u2029', '\u0000\u0001\u001f', '"\\/', 'Москва 東京 ✈️ café',
  ];

  it('gives the bytes of JSON.stringify on awkward values, cut at every slice size', () => {
    const values: unknown[] = [
      { role: 'user', content: awkward.join('') },
      { role: 'tool', content: awkward.join('').repeat(5), extra: [1, -0, 1e308, 2 ** 64, Number.NaN, Infinity, null, true, undefined, () => 1] },
      ['x', undefined, { a: undefined, b: () => 2, c: Symbol('s'), d: 'kept' }],
      { ['__proto__']: 'own key', nested: { deeper: [[], {}, [[['\uD800']]]] } },
      { boxed: [new String('s\uD83D'), new Number(3), new Boolean(false)] },
      { toJSON: () => ({ replaced: 'by toJSON \uDE00' }) },
      { date: new Date(0), when: { toJSON: (key: string) => `key ${key}` } },
      'just a string \uD83D\uDE00',
      42,
    ];
    for (const value of values) {
      for (const sliceChars of [1, 2, 3, 5, 8, 1000]) expect(sliced(value, sliceChars)).toBe(JSON.stringify(value));
    }
  });

  it('gives the bytes of JSON.stringify on arbitrary JSON-like values (property)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'é', '東', '\uD83D', '\uDE00', '\u2028', '\u0000', '"', '\\', '😀'), maxLength: 40 });
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, text, fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined),
        fc.array(tie('node'), { maxLength: 5 }), fc.dictionary(text, tie('node'), { maxKeys: 5 })),
    })).node;
    fc.assert(fc.property(value, fc.integer({ min: 1, max: 12 }), (v, sliceChars) => {
      const expected = JSON.stringify(v);
      expect(sliced(v, sliceChars)).toBe(expected);
    }), { numRuns: 300 });
  });

  it('serializes a 10 MB message in many bounded pieces', () => {
    const content = 'Москва 東京 ✈️ café \uD83D\uDE00 '.repeat(400_000);
    const copy = { role: 'tool', content };
    const { value, pauses } = run(slicedJsonBytes(copy));
    expect(value!.subarray(1).toString('utf8')).toBe(JSON.stringify(copy));
    // Serializing and encoding each pause at least once per two slices of 128 Ki characters (a slice cut before a surrogate pair is one short).
    expect(pauses).toBeGreaterThanOrEqual(Math.floor(content.length / (128 * 1024)));
  });
});

describe('content ids hashed in slices', () => {
  it('are the ids messageId gives', () => {
    const cache = new MessageCache(undefined);
    const list = cache.list([{ role: 'user', content: 'x'.repeat(3_500_000) }, { role: 'user', content: 'small' }]);
    for (const piece of list.pieces) {
      const { value, pauses } = run(contentIdInSlices(piece, list));
      expect(value).toBe(messageId(piece.bytes(undefined).subarray(1)));
      expect(pauses).toBe(piece.chars > 1_000_000 ? 4 : 0);
    }
  });
});

describe('the JSONL sink with one 10 MB message', () => {
  it('produces the line over many macrotasks, the message as sent', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-sliced-json-'));
    const jsonl = new JsonlSpanProcessor({ traceDir: dir, env: {} });
    const instrumentation = new MoaInstrumentation({ tracerProvider: new BasicTracerProvider({ spanProcessors: [jsonl] }), env: {} });
    const messages = [{ role: 'user', content: 'read this file' }, { role: 'tool', content: 'Москва 東京 ✈️ café '.repeat(600_000) }];
    const t = instrumentation.startTurn({ sessionId: 'huge', preset: 'p' });
    t.startAggregator({ model: 'agg', provider: 'p', messages }).end({ output: 'done' });
    t.end();
    const file = path.join(dir, 'huge.jsonl');
    let ticks = 0;
    while (!existsSync(file) && ticks < 10_000) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      ticks += 1;
    }
    // One message: before, one step serialized all of it in a single tick.
    expect(ticks).toBeGreaterThanOrEqual(20);
    await jsonl.forceFlush();
    const record = JSON.parse(readFileSync(file, 'utf8')) as { aggregator: { input_messages: unknown } };
    expect(record.aggregator.input_messages).toEqual(messages);
    await jsonl.shutdown();
  });
});
