import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setupMoaTracing, startMoaTurn, type MoaTracing } from '../../src/index.js';
import { turnRecordSchema, type TurnRecord } from '../../src/record/schema.js';

/** An object every operation on which throws (a revoked Proxy). */
function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** A Proxy whose every trap throws. */
function throwingProxy(): object {
  const boom = () => { throw new Error('trap boom'); };
  return new Proxy({}, { get: boom, has: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, getPrototypeOf: boom });
}

let dir: string;
let tracing: MoaTracing;
let warnings: string[];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'moa-hostile-'));
  tracing = setupMoaTracing({ save_traces: true, trace_dir: dir }, { env: {}, ignoreConfigFile: true, registerGlobal: false });
  warnings = [];
  diag.setLogger({
    error: (m) => warnings.push(m), warn: (m) => warnings.push(m), info: () => {}, debug: () => {}, verbose: () => {},
  }, DiagLogLevel.WARN);
});

afterEach(async () => {
  await tracing.shutdown();
  diag.disable();
  rmSync(dir, { recursive: true, force: true });
});

/** The session's records, each validated by the offline schema (a schema failure fails the test). */
function records(session: string): TurnRecord[] {
  const text = readFileSync(path.join(dir, `${session}.jsonl`), 'utf8');
  return text.split('\n').filter(Boolean).map((line) => {
    const parsed = turnRecordSchema.safeParse(JSON.parse(line));
    if (!parsed.success) throw new Error(`schema-invalid line: ${parsed.error.message}\n${line.slice(0, 400)}`);
    return parsed.data;
  });
}

function simpleTurn(options: Record<string, unknown>, reference: Record<string, unknown> = {}, end: Record<string, unknown> = {}): void {
  const turn = startMoaTurn({ sessionId: 's', preset: 'p', instrumentation: tracing.instrumentation, ...options } as never);
  turn.startReference({ index: 0, model: 'm', provider: 'p', messages: [{ role: 'user', content: 'q' }], ...reference } as never).end({ output: 'r', ...end } as never);
  turn.startAggregator({ model: 'agg', provider: 'p', messages: [{ role: 'user', content: 'q' }] }).end({ output: 'answer' });
  turn.end();
}

describe('odd arguments degrade to a marker, every line written validates', () => {
  it('cost { usd: "1e400" }: no 401-digit number; null with a marker in cost_source', () => {
    simpleTurn({}, {}, { cost: { usd: '1e400', status: 'actual', source: 'provider' } });
    simpleTurn({}, {}, { cost: { usd: 1e308 * 10 } });
    const [first, second] = records('s');
    expect(first!.references[0]!.cost_usd).toBeNull();
    expect(first!.references[0]!.cost_source).toMatch(/^\[moa-otel: cost 1e400 is not a finite number\]/);
    expect(second!.references[0]!.cost_usd).toBeNull();
    expect(readFileSync(path.join(dir, 's.jsonl'), 'utf8')).not.toMatch(/\d{40}/);
    expect(tracing.instrumentation.stats).toMatchObject({ argumentsReplaced: 2 });
  });

  it('one Proxy among toolCalls: tool_calls stays a list, the unreadable one a marker', () => {
    const turn = startMoaTurn({ sessionId: 's', preset: 'p', instrumentation: tracing.instrumentation });
    turn.startAggregator({ model: 'agg', provider: 'p', messages: [] }).end({
      output: null,
      toolCalls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } }, revoked(), throwingProxy()] as never,
    });
    turn.end();
    const [record] = records('s');
    const calls = record!.aggregator!.tool_calls as unknown[];
    expect(Array.isArray(calls)).toBe(true);
    expect(calls).toHaveLength(3);
    expect(calls[0]).toMatchObject({ id: 'a' });
    expect(calls[1]).toEqual({ type: 'function', function: { name: '[moa-otel: unreadable tool call]', arguments: '' } });
    expect(calls[2]).toEqual(calls[1]);
  });

  it('a Span where a Context is expected: recorded under that span, in its session', () => {
    const outer = tracing.tracerProvider!.getTracer('host').startSpan('host work');
    simpleTurn({ context: outer });
    outer.end();
    const [record] = records('s');
    expect(record!.references).toHaveLength(1);
    expect(record!.trace_id).toBe(outer.spanContext().traceId);
    expect(warnings.filter((w) => /context/.test(w))).toEqual([expect.stringMatching(/`context` is a Span, not a Context: the turn is recorded under that span/)]);
  });

  it('a context that is {}, a string, a Proxy or revoked: recorded in the active context, each reported', () => {
    for (const context of [{}, 'ctx', throwingProxy(), revoked()]) simpleTurn({ context });
    const all = records('s');
    expect(all).toHaveLength(4);
    for (const record of all) expect(record.aggregator?.output).toBe('answer');
    expect(warnings.filter((w) => /`context`/.test(w)).length).toBeGreaterThanOrEqual(1);
    expect(tracing.instrumentation.stats).toMatchObject({ argumentsReplaced: 4 });
  });

  it('a preset without a prototype, or with a throwing toString: recorded with a marker', () => {
    simpleTurn({ preset: Object.create(null) });
    simpleTurn({ preset: { toString() { throw new Error('no'); } } });
    simpleTurn({ preset: throwingProxy() });
    const all = records('s');
    expect(all.map((r) => r.preset)).toEqual(Array(3).fill('[moa-otel: unreadable preset]'));
    expect(warnings.some((w) => /`preset`/.test(w))).toBe(true);
  });

  it('such a model or provider: the call is recorded with a marker', () => {
    simpleTurn({}, { model: Object.create(null), provider: { toString() { throw new Error('no'); } } });
    const [record] = records('s');
    expect(record!.references).toHaveLength(1);
    expect(record!.references[0]).toMatchObject({ model: '[moa-otel: unreadable model]', provider: '[moa-otel: unreadable provider]', output: 'r' });
  });

  it('a messages array with a throwing getter element: both calls recorded, the element a marker', () => {
    const messages: unknown[] = [{ role: 'system', content: 'sys' }, { role: 'user', content: 'q' }];
    Object.defineProperty(messages, 1, { get() { throw new Error('getter boom'); }, enumerable: true });
    const turn = startMoaTurn({ sessionId: 's', preset: 'p', instrumentation: tracing.instrumentation });
    turn.startReference({ index: 0, model: 'm', provider: 'p', messages: messages as never }).end({ output: 'r' });
    turn.startAggregator({ model: 'agg', provider: 'p', messages: messages as never }).end({ output: 'answer' });
    turn.end();
    const [record] = records('s');
    expect(record!.references).toHaveLength(1);
    expect(record!.references[0]!.output).toBe('r');
    expect(record!.aggregator!.output).toBe('answer');
    expect(record!.references[0]!.input_messages).toEqual([{ role: 'system', content: 'sys' }, { role: 'unknown', content: '[moa-otel: this message could not be read]' }]);
    expect(warnings.some((w) => /`messages`/.test(w))).toBe(true);
  });

  it('each kind of loss is reported on its own, not once per error class', () => {
    simpleTurn({ preset: { toString() { throw new TypeError('a'); } } });
    simpleTurn({}, { model: { toString() { throw new TypeError('b'); } } });
    simpleTurn({ context: 'x' });
    expect(warnings.filter((w) => /`preset`/.test(w))).toHaveLength(1);
    expect(warnings.filter((w) => /`model`/.test(w))).toHaveLength(1);
    expect(warnings.filter((w) => /`context`/.test(w))).toHaveLength(1);
  });

  it('more hostile shapes in every other field: each turn is still one valid record with both calls', async () => {
    const boom = () => { throw new Error('trap boom'); };
    const lengthThrows = () => new Proxy([], { get: (target, key) => (key === 'length' ? boom() : Reflect.get(target, key)) });
    const cases: Record<string, [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>]> = {
      'sessionId Proxy': [{ sessionId: throwingProxy() }, {}, {}],
      'sessionId without prototype': [{ sessionId: Object.create(null) }, {}, {}],
      'fanout, iteration, input, cache Proxies': [{ fanout: throwingProxy(), iteration: throwingProxy(), input: throwingProxy(), cache: throwingProxy() }, {}, {}],
      'messages revoked': [{}, { messages: revoked() }, {}],
      'messages whose length throws': [{}, { messages: lengthThrows() }, {}],
      'label, temperature, server Proxies': [{}, { label: throwingProxy(), temperature: throwingProxy(), serverAddress: throwingProxy(), serverPort: throwingProxy() }, {}],
      'usage, response, cost, output Proxies': [{}, {}, { usage: throwingProxy(), response: throwingProxy(), cost: throwingProxy(), output: throwingProxy() }],
      'cost of 500 nines': [{}, {}, { cost: { usd: '9'.repeat(500) } }],
      'toolCalls revoked': [{}, {}, { toolCalls: revoked() }],
      'toolCalls whose length throws': [{}, {}, { toolCalls: lengthThrows() }],
    };
    for (const [name, [turnOptions, start, end]] of Object.entries(cases)) {
      const caseDir = mkdtempSync(path.join(tmpdir(), 'moa-hostile-case-'));
      const own = setupMoaTracing({ save_traces: true, trace_dir: caseDir }, { env: {}, ignoreConfigFile: true, registerGlobal: false });
      const turn = startMoaTurn({ sessionId: 's', preset: 'p', instrumentation: own.instrumentation, ...turnOptions } as never);
      turn.startReference({ index: 0, model: 'm', provider: 'p', messages: [{ role: 'user', content: 'q' }], ...start } as never).end({ output: 'r', ...end } as never);
      turn.startAggregator({ model: 'agg', provider: 'p', messages: [], ...start } as never).end({ output: 'answer', ...end } as never);
      turn.end();
      await own.shutdown();
      const lines = readdirSync(caseDir).flatMap((f) => readFileSync(path.join(caseDir, f), 'utf8').split('\n').filter(Boolean));
      rmSync(caseDir, { recursive: true, force: true });
      expect(lines, name).toHaveLength(1);
      const parsed = turnRecordSchema.safeParse(JSON.parse(lines[0]!));
      expect(parsed.success, name).toBe(true);
      expect(parsed.data?.references, name).toHaveLength(1);
      expect(parsed.data?.aggregator, name).toBeTruthy();
    }
  });
});
