/**
 * The fixed cost of a small turn: short conversations are serialized when
 * their call starts (no message cache), tool calls are serialized once, and
 * `forceFlush` with nothing to write arms no timer — with every guarantee of
 * the record kept (byte-identical to `JSON.stringify`, messages as they read
 * when the call started, compact files still store each message once).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { jsonCharsWithin } from '../../src/content/json-size.js';
import { JsonlSpanProcessor } from '../../src/export/jsonl-exporter.js';
import { setupMoaTracing, type ChatMessage, type MoaTracing } from '../../src/index.js';
import { MoaInstrumentation } from '../../src/trace/instrumentation.js';
import { SMALL_MESSAGES_CHARS } from '../../src/trace/message-capture.js';

let dir: string;
let tracing: MoaTracing;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'moa-small-turn-'));
  tracing = setupMoaTracing({ save_traces: true, trace_dir: dir }, { env: {}, ignoreConfigFile: true, registerGlobal: false });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await tracing.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

function lines(file: string): string[] {
  return readFileSync(path.join(dir, file), 'utf8').trimEnd().split('\n');
}

const NASTY = 'mixed ✈️ 東京 Москва 🧭 U+2028 [\u2028] NUL [\u0000] lone [\ud800] [\udfff] quote " backslash \\ ';

describe('a small turn', () => {
  it('writes short conversations byte-identical to JSON.stringify, as they read when each call started', async () => {
    const history: Array<Record<string, unknown>> = [
      { role: 'user', content: NASTY, n: [1e21, 1e-7, -0, Number.NaN, Number.MAX_VALUE, 2 ** 53 + 1], skip: undefined },
      { role: 'assistant', content: [{ type: 'text', text: NASTY }], nested: { deep: [[[{}]]] } },
    ];
    const getter = Object.defineProperty({ role: 'user' }, 'content', { enumerable: true, get: () => `read at ${stage}` });
    let stage = 'start';
    const messages = [...history, getter] as ChatMessage[];
    const expected = JSON.stringify(messages);
    const turn = tracing.instrumentation.startTurn({ sessionId: 's', preset: 'p' });
    const call = turn.startReference({ index: 0, model: 'm', provider: 'p', messages });
    // The agent changes its messages while the call runs: the record keeps what was sent.
    stage = 'end';
    (history[0] as { content: string }).content = 'edited after the call started';
    messages.push({ role: 'user', content: 'appended after the call started' });
    call.end({ output: 'ok' });
    turn.startAggregator({ model: 'a', provider: 'p', messages }).end({ output: 'done' });
    turn.end();
    await tracing.forceFlush();
    const [line] = lines('s.jsonl');
    const record = JSON.parse(line as string) as { references: Array<{ input_messages: unknown }>; aggregator: { input_messages: unknown } };
    expect(JSON.stringify(record.references[0]?.input_messages)).toBe(expected);
    expect(JSON.stringify(record.aggregator.input_messages)).toBe(JSON.stringify(messages));
    // The whole line is what JSON.stringify gives for the record it parses to.
    expect(line).toBe(JSON.stringify(record));
  });

  it('serializes a conversation its calls share once per turn, each line still byte-identical', async () => {
    const history = Array.from({ length: 6 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `${i} ${NASTY}` }));
    // What each call sent, as it read when the call started.
    const sent: string[] = [];
    const stringify = vi.spyOn(JSON, 'stringify');
    /** Characters serialized while calls started. */
    let atStart = 0;
    const start = <T>(messages: unknown[], call: () => T): T => {
      sent.push(JSON.stringify(messages));
      stringify.mockClear();
      const started = call();
      atStart += stringify.mock.results.reduce((sum, r) => sum + (typeof r.value === 'string' ? r.value.length : 0), 0);
      return started;
    };
    for (let t = 0; t < 2; t++) {
      const turn = tracing.instrumentation.startTurn({ sessionId: 'shared', preset: 'p' });
      for (let r = 0; r < 3; r++) {
        // Each reference its own system prompt and its own copies of the messages.
        const messages = [{ role: 'system', content: `advisor ${r}` }, ...history.map((m) => ({ ...m }))];
        start(messages, () => turn.startReference({ index: r, model: 'm', provider: 'p', messages })).end({ output: `r${r}` });
      }
      const messages = [{ role: 'system', content: 'acting' }, ...history, { role: 'user', content: 'guidance' }];
      start(messages, () => turn.startAggregator({ model: 'a', provider: 'p', messages })).end({ output: 'done' });
      turn.end();
      // Changed in place between turns: the next turn writes it as it reads then.
      history[0]!.content = 'changed between turns';
    }
    stringify.mockRestore();
    await tracing.forceFlush();
    const written = lines('shared.jsonl').map((line) => JSON.parse(line) as { references: Array<{ input_messages: unknown }>; aggregator: { input_messages: unknown } });
    const arrays = written.flatMap((record) => [...record.references.map((r) => r.input_messages), record.aggregator.input_messages]);
    expect(arrays.map((a) => JSON.stringify(a))).toEqual(sent);
    lines('shared.jsonl').forEach((line, i) => expect(line).toBe(JSON.stringify(written[i])));
    // Eight arrays over two turns hold the conversation eight times; each turn serialized it once (and the prompts).
    expect(atStart).toBeLessThan(3 * JSON.stringify(history).length);
  });

  it('serializes a short conversation that grows from turn to turn once: each turn only its new messages', async () => {
    const history: Array<{ role: string; content: string }> = [];
    const stringify = vi.spyOn(JSON, 'stringify');
    let atStart = 0;
    const sent: string[] = [];
    const start = <T>(messages: unknown[], call: () => T): T => {
      sent.push(JSON.stringify(messages));
      stringify.mockClear();
      const started = call();
      atStart += stringify.mock.results.reduce((sum, r) => sum + (typeof r.value === 'string' ? r.value.length : 0), 0);
      return started;
    };
    for (let t = 0; t < 6; t++) {
      history.push({ role: 'user', content: `question ${t} ${NASTY}` }, { role: 'assistant', content: `answer ${t} ${NASTY}` });
      const turn = tracing.instrumentation.startTurn({ sessionId: 'growing', preset: 'p' });
      for (let r = 0; r < 3; r++) {
        const messages = [{ role: 'system', content: `advisor ${r}` }, ...history.map((m) => ({ ...m }))];
        start(messages, () => turn.startReference({ index: r, model: 'm', provider: 'p', messages })).end({ output: `r${r}` });
      }
      const messages = [{ role: 'system', content: 'acting' }, ...history];
      start(messages, () => turn.startAggregator({ model: 'a', provider: 'p', messages })).end({ output: 'done' });
      turn.end();
    }
    stringify.mockRestore();
    await tracing.forceFlush();
    const written = lines('growing.jsonl').map((line) => JSON.parse(line) as { references: Array<{ input_messages: unknown }>; aggregator: { input_messages: unknown } });
    expect(written.flatMap((record) => [...record.references.map((r) => r.input_messages), record.aggregator.input_messages]).map((a) => JSON.stringify(a))).toEqual(sent);
    lines('growing.jsonl').forEach((line, i) => expect(line).toBe(JSON.stringify(written[i])));
    // 24 arrays of a conversation growing to 12 messages; each message serialized about once (and the prompts each turn).
    expect(atStart).toBeLessThan(2 * JSON.stringify(history).length);
  });

  it('writes references in index order whatever order they started in, equal indexes in start order', async () => {
    const turn = tracing.instrumentation.startTurn({ sessionId: 'order', preset: 'p' });
    for (const [index, model] of [[2, 'c'], [0, 'a'], [1, 'b1'], [1, 'b2']] as const) {
      turn.startReference({ index, model, provider: 'p', messages: [{ role: 'user', content: 'q' }] }).end({ output: model });
    }
    turn.startAggregator({ model: 'agg', provider: 'p', messages: [{ role: 'user', content: 'q' }] }).end({ output: 'done' });
    turn.end();
    await tracing.forceFlush();
    const record = JSON.parse(lines('order.jsonl')[0] as string) as { references: Array<{ model: string }> };
    expect(record.references.map((r) => r.model)).toEqual(['a', 'b1', 'b2', 'c']);
  });

  it('serializes tool calls once (a getter in one is read once, not once to check it and again to write it)', async () => {
    let reads = 0;
    const toolCall = Object.defineProperty({ type: 'function', function: { name: 'f', arguments: '{"a":1}' } }, 'id', {
      enumerable: true, get: () => { reads += 1; return 'call-1'; },
    });
    const turn = tracing.instrumentation.startTurn({ sessionId: 'tools', preset: 'p' });
    turn.startAggregator({ model: 'a', provider: 'p', messages: [{ role: 'user', content: 'q' }] }).end({ toolCalls: [toolCall], finishReason: 'tool_calls' });
    turn.end();
    await tracing.forceFlush();
    expect(reads).toBe(1);
    const record = JSON.parse(lines('tools.jsonl')[0] as string) as { aggregator: { tool_calls: unknown } };
    expect(record.aggregator.tool_calls).toEqual([{ type: 'function', function: { name: 'f', arguments: '{"a":1}' }, id: 'call-1' }]);
  });

  it('flushes with nothing pending without arming a deadline timer', async () => {
    const turn = tracing.instrumentation.startTurn({ sessionId: 'idle', preset: 'p' });
    turn.startAggregator({ model: 'a', provider: 'p', messages: [{ role: 'user', content: 'q' }] }).end({ output: 'a' });
    turn.end();
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    await tracing.forceFlush();
    expect(setTimeoutSpy).not.toHaveBeenCalled();
    expect(lines('idle.jsonl')).toHaveLength(1);
  });

  it('still gives a compact sink each message on its own: a short conversation is stored once per file', async () => {
    const instrumentation = new MoaInstrumentation({ env: {} });
    const compact = new JsonlSpanProcessor({ traceDir: dir, env: {}, policy: instrumentation.policy, traceFormat: 'compact' });
    const provider = new BasicTracerProvider({ spanProcessors: [compact] });
    instrumentation.setTracerProvider(provider);
    const history = [{ role: 'user', content: `the question ${NASTY}` }];
    for (let t = 0; t < 3; t++) {
      const turn = instrumentation.startTurn({ sessionId: 'compact', preset: 'p' });
      for (let r = 0; r < 3; r++) turn.startReference({ index: r, model: 'm', provider: 'p', messages: history.map((m) => ({ ...m })) }).end({ output: `r${r}` });
      turn.startAggregator({ model: 'a', provider: 'p', messages: history }).end({ output: 'a' });
      turn.end();
    }
    await provider.shutdown();
    const text = readFileSync(path.join(dir, 'compact.jsonl'), 'utf8');
    // Twelve arrays over three turns hold one message: it is in the file once.
    expect(text.split('the question').length - 1).toBe(1);
  });
});

describe('spans only the file reads', () => {
  type Seen = { attributes: Record<string, unknown>; links: unknown[]; events: Array<{ name: string }> };
  /** A turn of two references (the second one failing) and an aggregator; its root and aggregator spans as recorded. */
  function turnOn(instrumentation: MoaInstrumentation, session: string): { root: Seen; aggregator: Seen } {
    const turn = instrumentation.startTurn({ sessionId: session, preset: 'p' });
    const messages = [{ role: 'user', content: 'Trip plan ✈️' }] as ChatMessage[];
    turn.startReference({ index: 0, model: 'r0', provider: 'p', messages }).end({ output: 'ok', usage: { inputTokens: 10, outputTokens: 2 }, cost: { usd: 0.25, status: 'actual' } });
    turn.startReference({ index: 1, model: 'r1', provider: 'p', messages }).fail(new Error('down'));
    const aggregator = turn.startAggregator({ model: 'a', provider: 'p', messages });
    aggregator.end({ output: 'done', usage: { inputTokens: 20, outputTokens: 3 } });
    turn.end();
    return { root: trace.getSpan(turn.context) as unknown as Seen, aggregator: trace.getSpan(aggregator.context) as unknown as Seen };
  }

  it('without OTLP export: no root totals, no aggregator links, outcomes or failure events, and the line is whole', async () => {
    const { root, aggregator } = turnOn(tracing.instrumentation, 'files');
    expect(root.attributes['moa.reference.count']).toBeUndefined();
    expect(root.attributes['moa.usage.input_tokens']).toBeUndefined();
    expect(aggregator.links).toEqual([]);
    expect(aggregator.attributes['moa.references.outcomes']).toBeUndefined();
    expect(aggregator.events.map((e) => e.name)).not.toContain('moa.reference.failure');
    await tracing.forceFlush();
    const record = JSON.parse(lines('files.jsonl')[0] as string) as { references: Array<Record<string, unknown>>; aggregator: Record<string, unknown> };
    expect(record.references.map((r) => [r.output, r.usage, r.cost_usd, r.error])).toEqual([
      ['ok', { input_tokens: 10, output_tokens: 2, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0 }, 0.25, null],
      ['[failed: down]', { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0 }, null, 'down'],
    ]);
    expect(record.aggregator).toMatchObject({ output: 'done', usage: { input_tokens: 20, output_tokens: 3 } });
  });

  it('pointed at another provider, the same instrumentation makes them all again', () => {
    const exporter = new InMemorySpanExporter();
    tracing.instrumentation.setTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    turnOn(tracing.instrumentation, 'elsewhere');
    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.attributes['gen_ai.operation.name'] === 'invoke_workflow');
    const aggregator = spans.find((s) => s.attributes['moa.role'] === 'aggregator');
    expect(root?.attributes['moa.reference.count']).toBe(2);
    expect(root?.attributes['moa.usage.input_tokens']).toBe(30);
    expect(aggregator?.links).toHaveLength(2);
    expect(aggregator?.attributes['moa.references.outcomes']).toBe('ok,failed');
    expect(aggregator?.events.map((e) => e.name)).toContain('moa.reference.failure');
  });
});

describe('jsonCharsWithin', () => {
  it('counts strings, keys and one per value, within the budget', () => {
    expect(jsonCharsWithin([{ role: 'user', content: 'abc' }], 100)).toBe(1 + 1 + 4 + 1 + 4 + 7 + 3 + 1);
    expect(jsonCharsWithin('x'.repeat(99), 100)).toBe(100);
    expect(jsonCharsWithin('x'.repeat(100), 100)).toBeUndefined();
  });

  it('gives up on what only serializing can tell, and never throws', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    let deep: unknown = 'x';
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(jsonCharsWithin([{ toJSON: () => 'x' }], 1000)).toBeUndefined();
    expect(jsonCharsWithin([proxy], 1000)).toBeUndefined();
    expect(jsonCharsWithin(cycle, 1000)).toBeUndefined();
    expect(jsonCharsWithin(deep, 1000)).toBeUndefined();
    expect(jsonCharsWithin(Object.defineProperty({}, 'k', { enumerable: true, get: () => { throw new Error('boom'); } }), 1000)).toBeUndefined();
  });

  it('takes no more steps than its budget, whatever the shape (a million numbers is not small)', () => {
    expect(jsonCharsWithin(new Array<number>(1_000_000).fill(0), SMALL_MESSAGES_CHARS)).toBeUndefined();
    expect(jsonCharsWithin(Array.from({ length: 100 }, () => ({})), SMALL_MESSAGES_CHARS)).toBe(101);
  });
});
