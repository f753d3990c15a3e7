/**
 * The shortest program records: `setupMoaTracing()` then `startMoaTurn()`
 * (no instrumentation handed around) writes the line, through the most
 * recent live pipeline, inside the application's trace whatever the order
 * of setup; and a turn that nothing will record is said once and counted.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { context, diag, DiagLogLevel, propagation, trace } from '@opentelemetry/api';
import { AlwaysOffSampler, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setupMoaTracing, startMoaTurn, type MoaTracing } from '../../src/index.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  trace.disable();
  context.disable();
  propagation.disable();
  diag.disable();
});

function moaSetup(): { dir: string; tracing: MoaTracing } {
  const dir = mkdtempSync(path.join(tmpdir(), 'moa-shortest-'));
  const tracing = setupMoaTracing({ save_traces: true, trace_dir: dir }, { env: {}, ignoreConfigFile: true, notice: () => {} });
  cleanups.push(() => tracing.shutdown());
  return { dir, tracing };
}

/** The user's code: the sugar alone, no instrumentation passed. */
function sugarTurn(sessionId: string, start = startMoaTurn): void {
  const turn = start({ sessionId, preset: 'p' });
  turn.startReference({ index: 0, model: 'ref', provider: 'p', messages: [{ role: 'user', content: 'q' }] }).end({ output: 'advice' });
  turn.startAggregator({ model: 'agg', provider: 'p', messages: [{ role: 'user', content: 'q' }] }).end({ output: 'answer' });
  turn.end();
}

function records(dir: string, sessionId: string): { session_id: string; trace_id: string; aggregator: { output: string } }[] {
  const file = path.join(dir, `${sessionId}.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
}

function appProvider(options: { sampleNothing?: boolean } = {}) {
  const memory = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(memory)],
    ...(options.sampleNothing ? { sampler: new AlwaysOffSampler() } : {}),
  });
  cleanups.push(() => provider.shutdown());
  return { memory, provider };
}

function diagLines(): string[] {
  const lines: string[] = [];
  const push = (message: string) => lines.push(message);
  diag.setLogger({ error: push, warn: push, info: push, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
  return lines;
}

describe('setupMoaTracing() then startMoaTurn()', () => {
  it('writes the line', async () => {
    const { dir, tracing } = moaSetup();
    sugarTurn('shortest');
    await tracing.shutdown();
    const [record, ...more] = records(dir, 'shortest');
    expect(more).toEqual([]);
    expect(record?.session_id).toBe('shortest');
    expect(record?.aggregator.output).toBe('answer');
  });

  it('records through the most recent live pipeline; after its shutdown through the one before; then the global provider', async () => {
    const first = moaSetup();
    const second = moaSetup();
    sugarTurn('one');
    await second.tracing.shutdown();
    sugarTurn('two');
    await first.tracing.shutdown();
    const app = appProvider();
    app.provider.register();
    sugarTurn('three');

    expect(records(second.dir, 'one')).toHaveLength(1);
    expect(records(first.dir, 'one')).toEqual([]);
    expect(records(first.dir, 'two')).toHaveLength(1);
    expect(records(second.dir, 'two')).toEqual([]);
    expect(records(first.dir, 'three')).toEqual([]);
    expect(app.memory.getFinishedSpans().some((s) => s.name.startsWith('invoke_workflow moa'))).toBe(true);
  });

  for (const order of ['app first', 'moa first'] as const) {
    it(`${order}: the turn is recorded inside the application's request span (its trace id, its span as parent)`, async () => {
      const app = order === 'app first' ? appProvider() : undefined;
      app?.provider.register();
      const { dir, tracing } = moaSetup();
      const late = app ?? appProvider();
      if (!app) late.provider.register();

      const request = trace.getTracer('app').startActiveSpan('app-request', (span) => {
        sugarTurn(`order-${order.replace(" ", "-")}`);
        span.end();
        return span.spanContext();
      });
      await tracing.shutdown();
      const [record] = records(dir, `order-${order.replace(" ", "-")}`);
      expect(record?.trace_id).toBe(request.traceId);
      // The app's own provider got its span and none of moa-otel's (those went to setup's pipeline).
      expect(late.memory.getFinishedSpans().map((s) => s.name)).toEqual(['app-request']);
    });
  }
});

/** A fresh copy of the modules: each cause is said once per default instance, so every test needs its own. */
async function freshMoa() {
  vi.resetModules();
  return await import('../../src/index.js');
}

describe('a turn that nothing will record', () => {
  it('with no pipeline and no provider: said once through diag, naming the fix, and counted', async () => {
    const { defaultMoaInstrumentation, startMoaTurn } = await freshMoa();
    const lines = diagLines();
    const before = defaultMoaInstrumentation().stats.turnsNotRecorded;
    sugarTurn('nowhere-1', startMoaTurn);
    sugarTurn('nowhere-2', startMoaTurn);
    expect(defaultMoaInstrumentation().stats.turnsNotRecorded - before).toBe(2);
    const told = lines.filter((l) => l.includes('recorded nowhere'));
    expect(told).toHaveLength(1);
    expect(told[0]).toContain('setupMoaTracing');
    expect(told[0]).toContain('createMoaSpanProcessors()');
  });

  it('when the provider samples the root out: said once and counted', async () => {
    const { defaultMoaInstrumentation, startMoaTurn } = await freshMoa();
    const lines = diagLines();
    appProvider({ sampleNothing: true }).provider.register();
    const before = defaultMoaInstrumentation().stats.turnsNotRecorded;
    sugarTurn('dropped-1', startMoaTurn);
    sugarTurn('dropped-2', startMoaTurn);
    expect(defaultMoaInstrumentation().stats.turnsNotRecorded - before).toBe(2);
    expect(lines.filter((l) => l.includes('did not record an MoA turn'))).toHaveLength(1);
  });

  it("when the provider has no moa-otel processor while save_traces is on: said once, naming createMoaSpanProcessors", async () => {
    const { createMoaSpanProcessors, defaultMoaInstrumentation, startMoaTurn } = await freshMoa();
    const lines = diagLines();
    // The app built moa-otel's processors but never put them into its provider.
    createMoaSpanProcessors({ save_traces: true, trace_dir: mkdtempSync(path.join(tmpdir(), 'moa-unused-')) }, { env: {}, ignoreConfigFile: true });
    const app = appProvider();
    app.provider.register();
    const before = defaultMoaInstrumentation().stats.turnsNotRecorded;
    sugarTurn('no-processor-1', startMoaTurn);
    sugarTurn('no-processor-2', startMoaTurn);
    expect(defaultMoaInstrumentation().stats.turnsNotRecorded - before).toBe(2);
    const told = lines.filter((l) => l.includes("without moa-otel's span processors"));
    expect(told).toHaveLength(1);
    expect(told[0]).toContain('createMoaSpanProcessors()');
    // The app's provider still got the spans: only the files miss them.
    expect(app.memory.getFinishedSpans().filter((s) => s.name.startsWith('invoke_workflow moa'))).toHaveLength(2);
  });

  it('a recording pipeline says nothing', async () => {
    const { defaultMoaInstrumentation, setupMoaTracing, startMoaTurn } = await freshMoa();
    const lines = diagLines();
    const before = defaultMoaInstrumentation().stats.turnsNotRecorded;
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-shortest-'));
    const tracing = setupMoaTracing({ save_traces: true, trace_dir: dir }, { env: {}, ignoreConfigFile: true });
    cleanups.push(() => tracing.shutdown());
    sugarTurn('fine', startMoaTurn);
    await tracing.shutdown();
    expect(defaultMoaInstrumentation().stats.turnsNotRecorded).toBe(before);
    expect(tracing.instrumentation.stats.turnsNotRecorded).toBe(0);
    expect(lines.filter((l) => l.startsWith('moa-otel'))).toEqual([]);
  });
});
