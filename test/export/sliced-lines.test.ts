/**
 * No stalls: the work of a large record is split across event-loop ticks
 * (the line is produced over several macrotasks), lines keep their order,
 * and flush, shutdown and process exit still write everything.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { JsonlSpanProcessor } from '../../src/export/jsonl-exporter.js';
import { MoaInstrumentation } from '../../src/trace/instrumentation.js';
import type { ChatMessage } from '../../src/trace/types.js';

function setup() {
  const dir = mkdtempSync(path.join(tmpdir(), 'moa-sliced-'));
  const jsonl = new JsonlSpanProcessor({ traceDir: dir, env: {} });
  const instrumentation = new MoaInstrumentation({ tracerProvider: new BasicTracerProvider({ spanProcessors: [jsonl] }), env: {} });
  return { dir, jsonl, instrumentation };
}

/** About `mb` MB of conversation in 60 messages, mixed scripts. */
function conversation(mb: number, tag: string) {
  const text = 'Trip ✈️ 東京 → Москва, café. '.repeat(Math.ceil((mb * 1_000_000) / 60 / 40));
  return Array.from({ length: 60 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `${tag} ${i} ${text}` }));
}

function turn(instrumentation: MoaInstrumentation, session: string, messages: ChatMessage[], output: string) {
  const t = instrumentation.startTurn({ sessionId: session, preset: 'p' });
  t.startReference({ index: 0, model: 'm', provider: 'p', messages }).end({ output });
  t.startAggregator({ model: 'agg', provider: 'p', messages }).end({ output });
  t.end();
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function lines(file: string): Array<Record<string, unknown>> {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
}

describe('large records are finished across ticks', () => {
  it('the line of a 10 MB record is produced over several macrotasks, and forceFlush waits for it', async () => {
    const { dir, jsonl, instrumentation } = setup();
    const messages = conversation(5, 'big');
    turn(instrumentation, 'big', messages, 'done');
    const file = path.join(dir, 'big.jsonl');
    // The turn's end returned without writing: the work waits for the next ticks.
    expect(existsSync(file)).toBe(false);
    let ticks = 0;
    while (!existsSync(file) && ticks < 10_000) {
      await tick();
      ticks += 1;
    }
    expect(ticks).toBeGreaterThanOrEqual(3);
    await jsonl.forceFlush();
    const [record] = lines(file);
    expect((record!.references as Array<{ input_messages: unknown }>)[0]!.input_messages).toEqual(messages);
    expect((record!.aggregator as { input_messages: unknown }).input_messages).toEqual(messages);
  });

  it('a small turn that ends while a large one is being finished is written after it, in order', async () => {
    const { dir, jsonl, instrumentation } = setup();
    turn(instrumentation, 's', conversation(2, 'first'), 'first');
    turn(instrumentation, 's', [{ role: 'user', content: 'small' }], 'second');
    await jsonl.forceFlush();
    expect(lines(path.join(dir, 's.jsonl')).map((r) => (r.aggregator as { output: string }).output)).toEqual(['first', 'second']);
  });

  it('a long session\'s line is built off the turn\'s end even when its messages were all serialized for an earlier turn', async () => {
    const { dir, jsonl, instrumentation } = setup();
    // 1,500 messages carried from turn to turn (the same objects), sent to three references and the aggregator.
    const history = Array.from({ length: 1500 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `${i} ${'東京 café ✈️ '.repeat(30)}` }));
    const fourCalls = (output: string) => {
      const t = instrumentation.startTurn({ sessionId: 'long', preset: 'p' });
      for (let index = 0; index < 3; index++) t.startReference({ index, model: 'm', provider: 'p', messages: history }).end({ output });
      t.startAggregator({ model: 'agg', provider: 'p', messages: history }).end({ output });
      t.end();
    };
    fourCalls('first');
    await jsonl.forceFlush();
    const file = path.join(dir, 'long.jsonl');
    const firstSize = readFileSync(file).length;
    history.push({ role: 'user', content: 'one more question' });
    fourCalls('second');
    // Nothing new to serialize, but 6,000 message buffers to put in one line: not done inside turn.end().
    expect(readFileSync(file).length).toBe(firstSize);
    let ticks = 0;
    while (readFileSync(file).length === firstSize && ticks < 10_000) {
      await tick();
      ticks += 1;
    }
    expect(ticks).toBeGreaterThanOrEqual(2);
    await jsonl.forceFlush();
    const [, second] = lines(file);
    expect((second!.aggregator as { output: string }).output).toBe('second');
    for (const reference of second!.references as Array<{ input_messages: unknown }>) expect(reference.input_messages).toEqual(history);
  });

  it('shutdown writes a line still being finished, at once', async () => {
    const { dir, jsonl, instrumentation } = setup();
    turn(instrumentation, 'shut', conversation(2, 'x'), 'kept');
    const shutdown = jsonl.shutdown();
    expect(lines(path.join(dir, 'shut.jsonl'))).toHaveLength(1);
    await shutdown;
  });
});

describe('messages as sent', () => {
  it('two references started in one tick with one array, a message edited in between: each record has what its call was sent', async () => {
    const { dir, jsonl, instrumentation } = setup();
    const messages = [{ role: 'user', content: 'first version' }];
    const t = instrumentation.startTurn({ sessionId: 'edit', preset: 'p' });
    const r0 = t.startReference({ index: 0, model: 'm', provider: 'p', messages });
    messages[0]!.content = 'second version';
    const r1 = t.startReference({ index: 1, model: 'm', provider: 'p', messages });
    r0.end({ output: 'a' });
    r1.end({ output: 'b' });
    t.startAggregator({ model: 'agg', provider: 'p', messages }).end({ output: 'c' });
    t.end();
    await jsonl.forceFlush();
    const [record] = lines(path.join(dir, 'edit.jsonl'));
    expect((record!.references as Array<{ input_messages: Array<{ content: string }> }>).map((r) => r.input_messages[0]!.content))
      .toEqual(['first version', 'second version']);
  });
});
