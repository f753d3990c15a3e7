import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setupMoaTracing, startMoaTurn, type MoaTracing } from '../../src/index.js';
import { turnRecordSchema } from '../../src/offline/index.js';
import { RECORD_KEY_ORDER, REFERENCE_KEY_ORDER, AGGREGATOR_KEY_ORDER, USAGE_KEY_ORDER } from '../../src/record/schema.js';

let dir: string;
let tracing: MoaTracing | undefined;
const ENV = {} as Record<string, string>;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'moa-jsonl-'));
});
afterEach(async () => {
  await tracing?.shutdown();
  tracing = undefined;
});

function setup(extra: Record<string, unknown> = {}): MoaTracing {
  tracing = setupMoaTracing({ save_traces: true, trace_dir: path.join(dir, 'traces'), ...extra }, { env: ENV, ignoreConfigFile: true, registerGlobal: false });
  return tracing;
}

function readLines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

const advisorSystem = { role: 'system', content: 'You advise an acting model.' };
const userTurn = { role: 'user', content: [{ type: 'text', text: 'Plan a trip' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] };

describe('JSONL turn exporter', () => {
  it('writes exactly one complete line for a turn with a failed reference', async () => {
    const t = setup();
    const refMessages = [advisorSystem, userTurn];
    const aggMessages = [
      { role: 'system', content: 'agent system prompt' },
      userTurn,
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'search', arguments: '{"q":"rome"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'Rome is warm in May.' },
      { role: 'user', content: 'Guidance from references:\nReference 1 — openai:gpt-a: go in May' },
    ];
    const turn = startMoaTurn({ sessionId: 'sess-1', preset: 'duo', fanout: 'user_turn', cache: 'miss', iteration: 1, instrumentation: t.instrumentation });
    await Promise.all([
      (async () => {
        const ref = turn.startReference({ index: 0, model: 'gpt-a', provider: 'openai', temperature: 0.3, messages: refMessages });
        await new Promise((r) => setTimeout(r, 5));
        ref.end({
          output: 'Go in May.',
          usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 30, cacheWriteTokens: 5, reasoningTokens: 7 },
          cost: { usd: 0.00123, status: 'actual', source: 'provider' },
          response: { id: 'resp-a', model: 'gpt-a-2025', finishReasons: ['stop'] },
        });
      })(),
      (async () => {
        const ref = turn.startReference({ index: 1, label: 'anthropic:claude-b', model: 'claude-b', provider: 'anthropic', messages: refMessages });
        await new Promise((r) => setTimeout(r, 1));
        ref.fail(Object.assign(new Error('upstream overloaded'), { status: 529 }));
      })(),
    ]);
    const agg = turn.startAggregator({ model: 'gpt-agg', provider: 'openai', temperature: 0, messages: aggMessages, stream: false });
    agg.end({
      output: 'Book Rome for May.',
      usage: { inputTokens: 400, outputTokens: 50 },
      cost: { usd: '0.0042', status: 'estimated', source: 'genai-prices' },
      finishReason: 'stop',
    });
    turn.end();

    const file = path.join(dir, 'traces', 'sess-1.jsonl');
    const lines = readLines(file);
    expect(lines).toHaveLength(1);
    const rec = lines[0]!;
    expect(turnRecordSchema.safeParse(rec).success).toBe(true);
    expect(Object.keys(rec).slice(0, 5)).toEqual([...RECORD_KEY_ORDER]);
    expect(rec.session_id).toBe('sess-1');
    expect(rec.preset).toBe('duo');
    expect(rec.cache).toBe('miss');
    expect(rec.iteration).toBe(1);
    expect(rec.trace_id).toBe(turn.spanContext.traceId);

    const [ok, failed] = rec.references as Record<string, unknown>[];
    expect(Object.keys(ok!).slice(0, REFERENCE_KEY_ORDER.length)).toEqual([...REFERENCE_KEY_ORDER]);
    expect(ok!.label).toBe('openai:gpt-a');
    expect(ok!.temperature).toBe(0.3);
    expect(ok!.input_messages).toEqual(refMessages);
    expect(ok!.output).toBe('Go in May.');
    expect(ok!.usage).toEqual({ input_tokens: 100, output_tokens: 20, cache_read_tokens: 30, cache_write_tokens: 5, reasoning_tokens: 7 });
    expect(Object.keys(ok!.usage as object)).toEqual([...USAGE_KEY_ORDER]);
    expect(ok!.cost_usd).toBe(0.00123);
    expect(ok!.cost_status).toBe('actual');
    expect(ok!.cost_source).toBe('provider');
    expect(ok!.error).toBeNull();
    expect(ok!.ended_at as number).toBeGreaterThan(ok!.started_at as number);

    expect(failed!.label).toBe('anthropic:claude-b');
    expect(failed!.output).toBe('[failed: HTTP 529: upstream overloaded]');
    expect(failed!.error).toBe('HTTP 529: upstream overloaded');
    expect(failed!.cost_usd).toBeNull();

    const aggRec = rec.aggregator as Record<string, unknown>;
    expect(Object.keys(aggRec).slice(0, AGGREGATOR_KEY_ORDER.length)).toEqual([...AGGREGATOR_KEY_ORDER]);
    expect(aggRec.input_messages).toEqual(aggMessages);
    expect(JSON.stringify(aggRec.input_messages)).toContain('Guidance from references');
    expect(aggRec.output).toBe('Book Rome for May.');
    expect(aggRec.streamed).toBe(false);
    expect(aggRec.output_location).toBe('inline');
    expect(aggRec.cost_usd).toBe(0.0042);
    expect(aggRec.usage).toEqual({ input_tokens: 400, output_tokens: 50, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0 });
    expect(aggRec.finish_reason).toBe('stop');
  });

  it('records output_location for the three aggregator cases', () => {
    const t = setup();
    const cases: Array<[boolean, string | null, string]> = [
      [false, 'plain answer', 'inline'],
      [true, 'streamed answer', 'inline_from_stream'],
      [true, null, 'assistant_message_in_session_db'],
    ];
    for (const [stream, output] of cases) {
      const turn = startMoaTurn({ sessionId: 'loc', preset: 'p', instrumentation: t.instrumentation });
      turn.startReference({ index: 0, model: 'm', provider: 'p', messages: [{ role: 'user', content: 'q' }] }).end({ output: 'advice' });
      const agg = turn.startAggregator({ model: 'agg', provider: 'p', messages: [{ role: 'user', content: 'q' }], stream });
      agg.firstChunk();
      agg.end({ output, toolCalls: output === null ? [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] : null });
      turn.end();
    }
    const lines = readLines(path.join(dir, 'traces', 'loc.jsonl'));
    expect(lines.map((l) => (l.aggregator as Record<string, unknown>).output_location)).toEqual(cases.map((c) => c[2]));
    expect((lines[2]!.aggregator as Record<string, unknown>).tool_calls).toEqual([{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }]);
    expect((lines[1]!.aggregator as Record<string, unknown>).output).toBe('streamed answer');
  });

  it('keeps the messages as they were when the call started, even if the caller mutates them', () => {
    const t = setup();
    const messages: Array<{ role: string; content: string }> = [{ role: 'user', content: 'first' }];
    const turn = startMoaTurn({ sessionId: 'mut', preset: 'p', instrumentation: t.instrumentation });
    const agg = turn.startAggregator({ model: 'agg', provider: 'p', messages });
    messages.push({ role: 'assistant', content: 'added later' });
    (messages[0] as { content: string }).content = 'changed';
    agg.end({ output: 'ok' });
    turn.end();
    const [rec] = readLines(path.join(dir, 'traces', 'mut.jsonl'));
    expect((rec!.aggregator as Record<string, unknown>).input_messages).toEqual([{ role: 'user', content: 'first' }]);
  });

  it('waits for a stream that outlives turn.end() before writing the line', () => {
    const t = setup();
    const turn = startMoaTurn({ sessionId: 'late', preset: 'p', instrumentation: t.instrumentation });
    const agg = turn.startAggregator({ model: 'agg', provider: 'p', messages: [], stream: true });
    turn.end();
    const file = path.join(dir, 'traces', 'late.jsonl');
    expect(existsSync(file)).toBe(false);
    agg.end({ output: 'done' });
    expect(readLines(file)).toHaveLength(1);
  });

  it('writes cache HIT iterations only when trace_cache_hits is on', async () => {
    for (const [hits, expected] of [[false, 1], [true, 2]] as const) {
      const t = setup({ trace_cache_hits: hits });
      for (const cache of ['miss', 'hit'] as const) {
        const turn = startMoaTurn({ sessionId: `hits-${hits}`, preset: 'p', cache, instrumentation: t.instrumentation });
        if (cache === 'miss') turn.startReference({ index: 0, model: 'm', provider: 'p', messages: [] }).end({ output: 'a' });
        turn.startAggregator({ model: 'agg', provider: 'p', messages: [] }).end({ output: 'b' });
        turn.end();
      }
      const lines = readLines(path.join(dir, 'traces', `hits-${hits}.jsonl`));
      expect(lines).toHaveLength(expected);
      expect(lines.map((l) => l.cache)).toEqual(expected === 1 ? ['miss'] : ['miss', 'hit']);
      if (!hits) expect(t.jsonl?.stats.turnsSkippedCacheHit).toBe(1);
      await t.shutdown();
    }
  });

  it('writes nothing and creates no directory when tracing is off', async () => {
    const off = setupMoaTracing({ trace_dir: path.join(dir, 'never') }, { env: ENV, ignoreConfigFile: true, registerGlobal: false });
    expect(off.enabled).toBe(false);
    const turn = startMoaTurn({ sessionId: 's', preset: 'p', instrumentation: off.instrumentation });
    expect(turn.recording).toBe(false);
    let serialized = false;
    const spy = { role: 'user', get content() { serialized = true; return 'x'; } };
    turn.startReference({ index: 0, model: 'm', provider: 'p', messages: [spy] }).end({ output: 'a' });
    turn.startAggregator({ model: 'agg', provider: 'p', messages: [spy] }).end({ output: 'b' });
    turn.end();
    await off.shutdown();
    expect(serialized).toBe(false);
    expect(existsSync(path.join(dir, 'never'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('creates the directory 0700 and the file 0600', () => {
    const t = setup();
    const turn = startMoaTurn({ sessionId: 'modes', preset: 'p', instrumentation: t.instrumentation });
    turn.startAggregator({ model: 'agg', provider: 'p', messages: [] }).end({ output: 'b' });
    turn.end();
    expect(statSync(path.join(dir, 'traces')).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, 'traces', 'modes.jsonl')).mode & 0o777).toBe(0o600);
  });

  it('reads no environment variable per line when trace_dir is configured without ~ or $', () => {
    const reads: string[] = [];
    const env = new Proxy<Record<string, string | undefined>>({ MOA_HOME: path.join(dir, 'home') }, {
      get: (target, name) => {
        if (typeof name === 'string') reads.push(name);
        return target[name as string];
      },
    });
    tracing = setupMoaTracing({ save_traces: true, trace_dir: path.join(dir, 'fixed') }, { env, ignoreConfigFile: true, registerGlobal: false });
    reads.length = 0;
    for (const session of ['a', 'b', 'a']) {
      const turn = startMoaTurn({ sessionId: session, preset: 'p', instrumentation: tracing.instrumentation });
      turn.startAggregator({ model: 'agg', provider: 'p', messages: [] }).end({ output: 'b' });
      turn.end();
    }
    expect(reads).toEqual([]);
    expect(readLines(path.join(dir, 'fixed', 'a.jsonl'))).toHaveLength(2);
    expect(readLines(path.join(dir, 'fixed', 'b.jsonl'))).toHaveLength(1);
  });

  it('resolves the default trace dir from MOA_HOME at write time', () => {
    const env: Record<string, string> = { MOA_HOME: path.join(dir, 'home-a') };
    tracing = setupMoaTracing({ save_traces: true }, { env, ignoreConfigFile: true, registerGlobal: false });
    const run = () => {
      const turn = startMoaTurn({ sessionId: 'h', preset: 'p', instrumentation: tracing!.instrumentation });
      turn.startAggregator({ model: 'agg', provider: 'p', messages: [] }).end({ output: 'b' });
      turn.end();
    };
    run();
    env.MOA_HOME = path.join(dir, 'home-b');
    run();
    expect(readLines(path.join(dir, 'home-a', 'moa-traces', 'h.jsonl'))).toHaveLength(1);
    expect(readLines(path.join(dir, 'home-b', 'moa-traces', 'h.jsonl'))).toHaveLength(1);
  });
});
