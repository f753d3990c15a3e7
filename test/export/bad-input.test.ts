import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { safeStringify } from '../../src/content/safe-json.js';
import { sanitizeSessionId } from '../../src/config/paths.js';
import { JsonlSpanProcessor, JsonlTurnExporter, setupMoaTracing, startMoaTurn, type MoaTracing } from '../../src/index.js';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

let tracing: MoaTracing | undefined;
afterEach(async () => {
  await tracing?.shutdown();
  tracing = undefined;
  diag.disable();
});

function setup(traceDir: string): MoaTracing {
  tracing = setupMoaTracing({ save_traces: true, trace_dir: traceDir }, { env: {}, ignoreConfigFile: true, registerGlobal: false });
  return tracing;
}

function oneTurn(t: MoaTracing, sessionId: string | null, messages: unknown[], output: unknown = 'ok'): void {
  const turn = startMoaTurn({ sessionId, preset: 'p', instrumentation: t.instrumentation });
  turn.startReference({ index: 0, model: 'm', provider: 'p', messages: messages as never }).end({ output: output as string });
  turn.startAggregator({ model: 'agg', provider: 'p', messages: messages as never }).end({ output: 'done' });
  turn.end();
}

describe('hostile values in messages', () => {
  it('never produces invalid JSON and never loses the record', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-bad-'));
    const t = setup(dir);
    const circular: Record<string, unknown> = { role: 'user', content: 'loop' };
    circular.self = circular;
    const messages = [
      circular,
      { role: 'user', content: 'big', count: 12345678901234567890n },
      { role: 'user', content: 'undef', missing: undefined, fn: () => 1 },
      { role: 'user', content: 'lone \ud800 surrogate \udfff' },
      { role: 'user', content: 'numbers', nan: NaN, inf: Infinity, ninf: -Infinity },
      { role: 'user', content: 'shared', a: { x: 1 }, b: undefined },
    ];
    oneTurn(t, 'bad', messages);
    const text = readFileSync(path.join(dir, 'bad.jsonl'), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text);
    const rec = JSON.parse(text) as { references: Array<{ input_messages: Array<Record<string, unknown>> }> };
    const msgs = rec.references[0]!.input_messages;
    expect(msgs).toHaveLength(6);
    expect(msgs[0]!.self).toBe('[Circular]');
    expect(msgs[1]!.count).toBe('12345678901234567890');
    expect('missing' in msgs[2]!).toBe(false);
    expect('fn' in msgs[2]!).toBe(false);
    expect(msgs[3]!.content).toBe('lone \ud800 surrogate \udfff');
    expect(text).toContain('\\ud800');
    expect(msgs[4]).toMatchObject({ nan: null, inf: null, ninf: null });
  });

  it('keeps shared (non-circular) references and survives throwing getters and toJSON', () => {
    const shared = { k: 1 };
    const hostile = {
      role: 'user',
      get content(): string { throw new Error('getter boom'); },
      n: 1n,
      a: shared,
      b: shared,
      date: new Date(0),
      bad: { toJSON() { throw new Error('toJSON boom'); } },
    };
    const parsed = JSON.parse(safeStringify([hostile])) as Array<Record<string, unknown>>;
    expect(parsed[0]!.a).toEqual({ k: 1 });
    expect(parsed[0]!.b).toEqual({ k: 1 });
    expect(parsed[0]!.content).toBe('[getter failed: getter boom]');
    expect(parsed[0]!.date).toBe('1970-01-01T00:00:00.000Z');
    expect(String(parsed[0]!.bad)).toContain('toJSON boom');
    expect(safeStringify(undefined)).toBe('null');
  });
});

describe('session ids', () => {
  it('maps hostile and odd ids to safe file names inside the trace dir', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-ids-'));
    const t = setup(dir);
    const long = 'é'.repeat(1000);
    for (const id of ['../../etc/passwd', '', null, long, 'a/b\\c:d*e?f', '..', 'ünïcødé-日本_1.2']) oneTurn(t, id, [{ role: 'user', content: 'x' }]);
    const files = readdirSync(dir).sort();
    expect(files).toContain('.._.._etc_passwd.jsonl');
    expect(files).toContain('unknown-session.jsonl');
    expect(files).toContain('a_b_c_d_e_f.jsonl');
    expect(files).toContain('__.jsonl');
    expect(files).toContain('ünïcødé-日本_1.2.jsonl');
    for (const f of files) expect(Buffer.byteLength(f)).toBeLessThanOrEqual(200);
    // Empty and absent ids share one file; the record keeps the raw id.
    const unknown = readFileSync(path.join(dir, 'unknown-session.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { session_id: unknown });
    expect(unknown.map((r) => r.session_id)).toEqual(['', null]);
    const longFile = files.find((f) => f.startsWith('é'))!;
    expect(readFileSync(path.join(dir, longFile), 'utf8')).toContain(long);
  });

  it('gives long ids with a common prefix different files', () => {
    const a = sanitizeSessionId(`${'x'.repeat(300)}-a`);
    const b = sanitizeSessionId(`${'x'.repeat(300)}-b`);
    expect(a).not.toBe(b);
    expect(Buffer.byteLength(`${a}.jsonl`)).toBeLessThanOrEqual(200);
  });
});

describe('write failures', () => {
  it('an unwritable trace dir never reaches the agent: reported once, counted', () => {
    const base = mkdtempSync(path.join(tmpdir(), 'moa-ro-'));
    // A file where the directory should be fails even for root (chmod does not stop root).
    const blocked = path.join(base, 'not-a-dir');
    writeFileSync(blocked, 'x');
    const messages: string[] = [];
    const logger: DiagLogger = {
      error: (m: string) => messages.push(m), warn: () => {}, info: () => {}, debug: () => {}, verbose: () => {},
    };
    diag.setLogger(logger, DiagLogLevel.ERROR);
    const t = setup(path.join(blocked, 'traces'));
    for (let i = 0; i < 3; i++) expect(() => oneTurn(t, 's', [{ role: 'user', content: 'x' }])).not.toThrow();
    expect(t.jsonl?.stats.writeErrors).toBe(3);
    expect(messages.filter((m) => m.includes('cannot write trace file'))).toHaveLength(1);
    expect(messages[0]).toMatch(/ENOTDIR|EEXIST/);
  });
});

describe('spans the JSONL sink cannot read', () => {
  it('are skipped without throwing, and each cause is said once however often it recurs', () => {
    const warnings: string[] = [];
    const logger: DiagLogger = {
      error: (m: string) => warnings.push(m), warn: (m: string) => warnings.push(m), info: () => {}, debug: () => {}, verbose: () => {},
    };
    diag.setLogger(logger, DiagLogLevel.WARN);
    const processor = new JsonlSpanProcessor({ traceDir: mkdtempSync(path.join(tmpdir(), 'moa-odd-')), env: {} });
    // A span from some other SDK whose attributes cannot be read.
    const odd = Object.defineProperty({}, 'attributes', { get: () => { throw new Error('attributes are gone'); } });
    for (let i = 0; i < 50; i++) {
      expect(() => processor.onStart(odd as never, {} as never)).not.toThrow();
      expect(() => processor.onEnd(odd as never)).not.toThrow();
    }
    expect(warnings).toEqual(['moa-otel: JSONL sink skipped a span: attributes are gone']);
  });
});

describe('incomplete iterations', () => {
  it('bounds call spans whose root never ends and reports them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-pending-'));
    const exporter = new JsonlTurnExporter({ traceDir: dir, env: {}, maxPendingIterations: 5 });
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('t');
    for (let i = 0; i < 20; i++) {
      const turn = startMoaTurn({ sessionId: 'never', preset: 'p', tracer });
      turn.startReference({ index: 0, model: 'm', provider: 'p', messages: [] }).end({ output: 'a' });
      // turn.end() never called: a leaked root.
    }
    expect(exporter.pendingIterations).toBeLessThanOrEqual(5);
    // Evicted iterations are not dropped: each becomes a partial record, the rest at shutdown.
    expect(exporter.stats.partialTurnsWritten).toBe(15);
    await provider.shutdown();
    expect(exporter.stats.partialTurnsWritten).toBe(20);
    const lines = readFileSync(path.join(dir, 'never.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(20);
    expect(lines.map((l) => l.partial_reason)).toEqual([...Array(15).fill('evicted'), ...Array(5).fill('shutdown')]);
    expect(lines.every((l) => l.partial === true && l.references[0].output === 'a' && l.aggregator.error === 'aggregator was not called')).toBe(true);
  });
});

describe('instrumentation misuse', () => {
  it('never throws into the caller', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-misuse-'));
    const t = setup(dir);
    const turn = startMoaTurn({ sessionId: 'm', preset: 'p', instrumentation: t.instrumentation });
    const ref = turn.startReference({ index: 0, model: 'm', provider: 'p', messages: null as never });
    expect(() => ref.end({ usage: { inputTokens: -5, outputTokens: NaN } as never, cost: { usd: 'abc', status: 'actual' } })).not.toThrow();
    expect(() => ref.end()).not.toThrow();
    expect(() => ref.fail('late')).not.toThrow();
    expect(() => turn.startAggregator(undefined as never)).not.toThrow();
    expect(() => turn.end()).not.toThrow();
    expect(() => turn.end()).not.toThrow();
    expect(() => startMoaTurn(undefined as never)).not.toThrow();
    const rec = JSON.parse(readFileSync(path.join(dir, 'm.jsonl'), 'utf8')) as { references: Array<{ usage: Record<string, number>; cost_usd: unknown }> };
    expect(rec.references[0]!.usage.input_tokens).toBe(0);
    expect(rec.references[0]!.cost_usd).toBeNull();
  });
});
