/**
 * No turn is lost to a caller mistake: every handle method is safe to pass as
 * a callback, a call ends whatever its argument, and the callback forms run
 * the call inside its span's context.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMoaSpanProcessors } from '../../src/setup/processors.js';
import type { MoaTurn } from '../../src/trace/types.js';

interface Harness {
  dir: string;
  memory: InMemorySpanExporter;
  provider: NodeTracerProvider;
  turn(sessionId: string): MoaTurn;
  record(sessionId: string): Record<string, any>;
}

function harness(): Harness {
  const dir = mkdtempSync(path.join(tmpdir(), 'moa-handles-'));
  const processors = createMoaSpanProcessors({ save_traces: true, trace_dir: dir }, { env: {}, ignoreConfigFile: true });
  const memory = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [...processors, new SimpleSpanProcessor(memory)] });
  processors.instrumentation.setTracerProvider(provider);
  return {
    dir, memory, provider,
    turn: (sessionId) => processors.instrumentation.startTurn({ sessionId, preset: 'p' }),
    record: (sessionId) => {
      const lines = readFileSync(path.join(dir, `${sessionId}.jsonl`), 'utf8').trim().split('\n');
      expect(lines).toHaveLength(1);
      return JSON.parse(lines[0] as string);
    },
  };
}

const MESSAGES = [{ role: 'user', content: 'hi' }];
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});

describe('hostile but plausible uses', () => {
  it('unbound methods as promise callbacks end the calls and the turn', async () => {
    const h = harness();
    const turn = h.turn('unbound');
    const ok = turn.startReference({ index: 0, model: 'a', provider: 'p', messages: MESSAGES });
    const bad = turn.startReference({ index: 1, model: 'b', provider: 'p', messages: MESSAGES });
    const agg = turn.startAggregator({ model: 'agg', provider: 'p', messages: MESSAGES });
    await Promise.resolve({ output: 'fine' }).then(ok.end);
    await Promise.reject(new Error('rate limited')).catch(bad.fail);
    await Promise.resolve({ output: 'answer' }).then(agg.end).finally(turn.end);
    const record = h.record('unbound');
    expect(record.references.map((r: { output: string }) => r.output)).toEqual(['fine', '[failed: rate limited]']);
    expect(record.aggregator.output).toBe('answer');
  });

  it('ends a call whatever it is handed', () => {
    const h = harness();
    const turn = h.turn('hostile');
    const throwingMessage = new Error('x');
    Object.defineProperty(throwingMessage, 'message', { get() { throw new Error('getter'); } });
    const throwingToString = { toString() { throw new Error('no'); } };
    const throwingResult = {} as Record<string, unknown>;
    Object.defineProperty(throwingResult, 'usage', { get() { throw new Error('usage getter'); }, enumerable: true });
    throwingResult.output = 'kept';
    const starts = [0, 1, 2, 3, 4].map((index) => turn.startReference({ index, model: `m${index}`, provider: 'p', messages: MESSAGES }));
    expect(() => starts[0]!.fail(Object.create(null))).not.toThrow();
    expect(() => starts[1]!.fail(throwingMessage)).not.toThrow();
    expect(() => starts[2]!.fail(throwingToString)).not.toThrow();
    expect(() => starts[3]!.end(null)).not.toThrow();
    expect(() => starts[4]!.end(throwingResult as never)).not.toThrow();
    turn.startAggregator({ model: 'agg', provider: 'p', messages: MESSAGES }).end({ output: 'a' });
    turn.end();
    const record = h.record('hostile');
    expect(record.references).toHaveLength(5);
    const outputs = record.references.map((r: { output: string | null }) => r.output);
    expect(outputs.slice(0, 3).every((o: string) => o.startsWith('[failed: '))).toBe(true);
    expect(outputs.slice(3)).toEqual([null, 'kept']);
    expect(h.memory.getFinishedSpans()).toHaveLength(7);
  });

  it('a call ended twice, or failed after it ended, is recorded once', () => {
    const h = harness();
    const turn = h.turn('twice');
    const ref = turn.startReference({ index: 0, model: 'm', provider: 'p', messages: MESSAGES });
    ref.end({ output: 'first' });
    ref.end({ output: 'second' });
    ref.fail(new Error('late'));
    turn.startAggregator({ model: 'agg', provider: 'p', messages: MESSAGES }).end({ output: 'a' });
    turn.end();
    expect(h.record('twice').references[0].output).toBe('first');
  });
});

describe('callback forms and call contexts', () => {
  it('runs the call inside its span, ends on resolve, fails on reject, passes results and errors through', async () => {
    const h = harness();
    const turn = h.turn('callbacks');
    const seen: string[] = [];
    const value = await turn.reference({ index: 0, model: 'a', provider: 'p', messages: MESSAGES }, async (ref) => {
      await new Promise((r) => setTimeout(r, 5));
      seen.push(trace.getActiveSpan()?.spanContext().spanId ?? 'none', ref.spanContext.spanId);
      ref.end({ output: 'detailed' });
      return 42;
    });
    expect(value).toBe(42);
    expect(seen[0]).toBe(seen[1]);
    const error = new Error('provider down');
    await expect(turn.reference({ index: 1, model: 'b', provider: 'p', messages: MESSAGES }, async () => { throw error; })).rejects.toBe(error);
    const answer = await turn.aggregator({ model: 'agg', provider: 'p', messages: MESSAGES }, () => 'sync answer');
    expect(answer).toBe('sync answer');
    turn.end();
    const record = h.record('callbacks');
    expect(record.references.map((r: { output: string }) => r.output)).toEqual(['detailed', '[failed: provider down]']);
    // Ended by the callback form without details: an answer nobody described.
    expect(record.aggregator.error).toBeNull();
    const spans = h.memory.getFinishedSpans();
    const root = spans.find((s) => s.name.startsWith('invoke_workflow moa')) as ReadableSpan;
    expect(spans.filter((s) => s.parentSpanContext?.spanId === root.spanContext().spanId)).toHaveLength(3);
  });

  it("the aggregator's links say which reference each is and how it went", () => {
    const h = harness();
    const turn = h.turn('links');
    turn.startReference({ index: 0, model: 'a', provider: 'p', messages: MESSAGES }).end({ output: 'x' });
    turn.startReference({ index: 1, model: 'b', provider: 'p', messages: MESSAGES }).fail(new Error('boom'));
    turn.startAggregator({ model: 'agg', provider: 'p', messages: MESSAGES }).end({ output: 'y' });
    turn.end();
    const agg = h.memory.getFinishedSpans().find((s) => s.attributes['moa.role'] === 'aggregator') as ReadableSpan;
    expect(agg.links.map((l) => l.attributes)).toEqual([
      { 'moa.reference.index': 0, 'moa.reference.outcome': 'ok' },
      { 'moa.reference.index': 1, 'moa.reference.outcome': 'failed' },
    ]);
  });
});

describe('content capture off', () => {
  it('keeps provider error texts out of span status and exception events, and in the file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-nocontent-'));
    const processors = createMoaSpanProcessors({ save_traces: true, trace_dir: dir, otlp: { capture_content: false } }, { env: {}, ignoreConfigFile: true });
    const memory = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({ spanProcessors: [...processors, new SimpleSpanProcessor(memory)] });
    processors.instrumentation.setTracerProvider(provider);
    const turn = processors.instrumentation.startTurn({ sessionId: 'quiet', preset: 'p' });
    const echo = Object.assign(new Error('400 your prompt "tell me the launch codes" was refused'), { status: 400 });
    turn.startReference({ index: 0, model: 'm', provider: 'p', messages: MESSAGES }).fail(echo);
    turn.startAggregator({ model: 'agg', provider: 'p', messages: MESSAGES }).end({ output: 'ok' });
    turn.end();
    const ref = memory.getFinishedSpans().find((s) => s.attributes['moa.role'] === 'reference') as ReadableSpan;
    expect(JSON.stringify({ status: ref.status, events: ref.events, attributes: ref.attributes })).not.toContain('launch codes');
    expect(ref.status.message).toBe('400');
    expect(ref.attributes['error.type']).toBe('400');
    const line = readFileSync(path.join(dir, 'quiet.jsonl'), 'utf8');
    expect(JSON.parse(line).references[0].output).toBe('[failed: 400 your prompt "tell me the launch codes" was refused]');
  });
});

describe('exact messages', () => {
  it('a shared messages array is recorded as it was at each start, changed or not', async () => {
    const h = harness();
    const turn = h.turn('shared');
    const messages: Array<{ role: string; content: string }> = [{ role: 'user', content: 'one' }];
    const a = turn.startReference({ index: 0, model: 'a', provider: 'p', messages });
    const b = turn.startReference({ index: 1, model: 'b', provider: 'p', messages });
    messages[0] = { role: 'user', content: 'replaced in the same tick' };
    const c = turn.startReference({ index: 2, model: 'c', provider: 'p', messages });
    await Promise.resolve();
    messages.push({ role: 'user', content: 'later' });
    const d = turn.startReference({ index: 3, model: 'd', provider: 'p', messages });
    for (const ref of [a, b, c, d]) ref.end({ output: 'x' });
    turn.startAggregator({ model: 'agg', provider: 'p', messages }).end({ output: 'y' });
    turn.end();
    expect(h.record('shared').references.map((r: { input_messages: Array<{ content: string }> }) => r.input_messages.map((m) => m.content))).toEqual([
      ['one'], ['one'], ['replaced in the same tick'], ['replaced in the same tick', 'later'],
    ]);
  });
});
