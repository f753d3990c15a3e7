/**
 * Turn edges a review found: a late call of an evicted iteration, a stream
 * the caller aborts, options and messages whose getters throw, content events
 * under EVENT_ONLY. Each case failed before its fix.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { JsonlSpanProcessor } from '../../src/export/jsonl-exporter.js';
import { MoaInstrumentation, startMoaTurn } from '../../src/trace/instrumentation.js';
import { byRole, DEFAULT_MODELS, inMemoryTracing, scriptedServer, testClient } from '../client/helpers.js';
import { waitUntil } from '../helpers/wait-until.js';

describe('eviction', () => {
  it('a call that ends after its iteration was written as partial never opens a second, wrong record', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-evict-'));
    const jsonl = new JsonlSpanProcessor({ traceDir: dir, maxPendingIterations: 2, env: {} });
    const provider = new BasicTracerProvider({ spanProcessors: [jsonl] });
    const instrumentation = new MoaInstrumentation({ tracerProvider: provider, env: {} });
    const slow = instrumentation.startTurn({ sessionId: 'slow', preset: 'p' });
    const r0 = slow.startReference({ index: 0, model: 'm0', provider: 'p', messages: [] });
    const r1 = slow.startReference({ index: 1, model: 'm1', provider: 'p', messages: [] });
    r0.end({ output: 'r0 done' });
    for (const id of ['x', 'y']) instrumentation.startTurn({ sessionId: id, preset: 'p' }).startReference({ index: 0, model: 'm', provider: 'p', messages: [] });
    r1.end({ output: 'r1 done' });
    slow.startAggregator({ model: 'agg', provider: 'p', messages: [] }).end({ output: 'answer' });
    slow.end();
    await jsonl.shutdown();
    const records = readFileSync(path.join(dir, 'slow.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ partial: true, partial_reason: 'evicted' });
    expect(records[0].references.map((r: { output: string }) => r.output)).toEqual(['r0 done', '[failed: not ended]']);
    expect(jsonl.stats.spansAfterEviction).toBe(4);
  });
});

describe('a stream the caller aborts', () => {
  it('is recorded as failed, with what had arrived, not as a complete answer', async () => {
    const server = await scriptedServer({ ...DEFAULT_MODELS, aggregator: { reply: 'one two three four five six seven eight nine ten', chunkSize: 4, chunkDelayMs: 40 } });
    const tracing = inMemoryTracing();
    try {
      const client = testClient(server, tracing.instrumentation);
      const controller = new AbortController();
      const stream = await client.chat.completions.create({ model: 'moa', stream: true, messages: [{ role: 'user', content: 'hi' }] }, { signal: controller.signal });
      let seen = 0;
      try {
        for await (const _ of stream) if (++seen === 2) controller.abort();
      } catch {
        // the caller's own abort
      }
      // The span ends when the aborted stream has unwound, a moment after the loop: wait for it.
      await waitUntil(() => byRole(tracing.spans(), 'aggregator').length > 0, 'the aggregator span to end');
      const agg = byRole(tracing.spans(), 'aggregator')[0] as ReadableSpan;
      expect(agg.status.code).toBe(2);
      expect(agg.attributes['error.type']).toBeDefined();
      expect(String(agg.attributes['output.value'] ?? '')).toMatch(/^one /);
    } finally {
      await tracing.shutdown();
      await server.close();
    }
  });
});

describe('hostile options and messages', () => {
  it('startMoaTurn never throws, whatever its options do', () => {
    const getterThrows = Object.defineProperty({ preset: 'p' }, 'sessionId', { get() { throw new Error('boom'); }, enumerable: true });
    const routingThrows = Object.defineProperty({ preset: 'p' }, 'instrumentation', { get() { throw new Error('boom'); }, enumerable: true });
    const proxy = new Proxy({}, { ownKeys() { throw new Error('boom'); }, get() { throw new Error('boom'); } });
    for (const options of [getterThrows, routingThrows, proxy]) {
      expect(() => startMoaTurn(options as never).end()).not.toThrow();
    }
  });

  it('a message whose getter throws costs its content, never the call', () => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
    const instrumentation = new MoaInstrumentation({ tracerProvider: provider, env: {} });
    const turn = instrumentation.startTurn({ sessionId: 's', preset: 'p' });
    const hostile = { role: 'user', get content(): string { throw new Error('boom'); } };
    turn.startReference({ index: 0, model: 'a', provider: 'p', messages: [hostile] }).end({ output: 'x' });
    turn.end();
    const names = memory.getFinishedSpans().map((s) => s.name).sort();
    expect(names).toEqual(['chat a', 'invoke_workflow moa p']);
    expect(String(memory.getFinishedSpans().find((s) => s.name === 'chat a')?.attributes['gen_ai.input.messages'])).toContain('could not be read');
  });
});

describe('EVENT_ONLY', () => {
  it('puts the tool definitions in the content event, and gives a failed call its event too', () => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
    const instrumentation = new MoaInstrumentation({ tracerProvider: provider, env: { OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'EVENT_ONLY' } });
    const turn = instrumentation.startTurn({ sessionId: 's', preset: 'p' });
    turn.startReference({ index: 0, model: 'r', provider: 'p', messages: [{ role: 'user', content: 'q' }] }).fail(new Error('down'));
    turn.startAggregator({ model: 'a', provider: 'p', messages: [{ role: 'user', content: 'q' }], tools: [{ type: 'function', function: { name: 'f' } }] }).end({ output: 'ok' });
    turn.end();
    const event = (name: string) => memory.getFinishedSpans().find((s) => s.name === name)?.events.find((e) => e.name === 'gen_ai.client.inference.operation.details');
    expect(Object.keys(event('chat a')?.attributes ?? {}).sort()).toEqual(['gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.tool.definitions']);
    expect(Object.keys(event('chat r')?.attributes ?? {})).toEqual(['gen_ai.input.messages']);
    expect(memory.getFinishedSpans().some((s) => s.attributes['gen_ai.input.messages'] !== undefined)).toBe(false);
  });
});
