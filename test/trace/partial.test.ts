/**
 * A turn is never lost because a call did not end: an iteration whose root
 * never ends is written with what is known (ended calls whole, open ones
 * marked "not ended") when it is evicted, at shutdown and at process exit.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setupMoaTracing, type MoaTracing } from '../../src/index.js';
import { createMoaClient } from '../../src/client/client.js';
import { startScriptedServer, type ScriptedServer } from '../../src/testing/scripted-server.js';
import { turnRecordSchema } from '../../src/record/schema.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const MESSAGES = [{ role: 'user', content: 'question' }];

function readRecords(file: string): Record<string, any>[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((line) => {
    const record = JSON.parse(line);
    expect(turnRecordSchema.safeParse(record).success).toBe(true);
    return record;
  });
}

let tracing: MoaTracing | undefined;
let server: ScriptedServer | undefined;
afterEach(async () => {
  await tracing?.shutdown();
  await server?.close();
  tracing = undefined;
  server = undefined;
});

describe('partial records', () => {
  it('writes an iteration whose call never ended at shutdown, paid references included', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-partial-'));
    tracing = setupMoaTracing({ save_traces: true, trace_dir: dir }, { env: {}, ignoreConfigFile: true });
    const turn = tracing.instrumentation.startTurn({ sessionId: 'open', preset: 'duo', iteration: 3 });
    turn.startReference({ index: 0, model: 'paid', provider: 'p', messages: MESSAGES })
      .end({ output: 'advice', usage: { inputTokens: 10, outputTokens: 5 }, cost: { usd: 0.002, status: 'actual' } });
    turn.startReference({ index: 1, model: 'hung', provider: 'p', messages: MESSAGES });
    turn.end();
    await tracing.shutdown();
    const [record] = readRecords(path.join(dir, 'open.jsonl'));
    expect(record).toMatchObject({
      session_id: 'open', preset: 'duo', iteration: 3, partial: true, partial_reason: 'shutdown',
      aggregator: { error: 'aggregator was not called' },
    });
    expect(record!.references[0]).toMatchObject({ model: 'paid', output: 'advice', cost_usd: 0.002, error: null });
    expect(record!.references[1]).toMatchObject({ model: 'hung', output: '[failed: not ended]', error: 'not ended', ended_at: null });
    expect(record!.references[1].input_messages).toEqual(MESSAGES);
    expect(tracing.jsonl?.stats.partialTurnsWritten).toBe(1);
  });

  it('evicts by age: an abandoned iteration is written when the next one starts too late', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-evict-'));
    tracing = setupMoaTracing({ save_traces: true, trace_dir: dir }, { env: {}, ignoreConfigFile: true });
    const abandoned = tracing.instrumentation.startTurn({ sessionId: 'age', preset: 'p' });
    abandoned.startAggregator({ model: 'agg', provider: 'p', messages: MESSAGES });
    // A processor with a tiny age limit shows eviction without waiting an hour.
    const { JsonlSpanProcessor } = await import('../../src/export/jsonl-exporter.js');
    const { OwnTracerProvider } = await import('../../src/otel/own-provider.js');
    const { MoaInstrumentation } = await import('../../src/trace/instrumentation.js');
    const jsonl = new JsonlSpanProcessor({ traceDir: dir, env: {}, maxPendingMs: 1 });
    const instrumentation = new MoaInstrumentation({ tracerProvider: new OwnTracerProvider({ resourceAttributes: {}, processors: [jsonl] }) });
    instrumentation.startTurn({ sessionId: 'age2', preset: 'p' }).startAggregator({ model: 'agg', provider: 'p', messages: MESSAGES });
    await new Promise((r) => setTimeout(r, 5));
    const next = instrumentation.startTurn({ sessionId: 'age2', preset: 'p' });
    next.startAggregator({ model: 'agg', provider: 'p', messages: MESSAGES }).end({ output: 'done' });
    next.end();
    const records = readRecords(path.join(dir, 'age2.jsonl'));
    expect(records.map((r) => r.partial_reason ?? 'complete')).toEqual(['evicted', 'complete']);
    expect(records[0]!.aggregator.error).toBe('not ended');
    await jsonl.shutdown();
  });

  it('writes the turn of a streamed answer the caller never read', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-unread-'));
    server = await startScriptedServer({ models: { a: { reply: 'advice' }, agg: { reply: 'a long streamed answer', chunkSize: 4 } } });
    tracing = setupMoaTracing({ save_traces: true, trace_dir: dir }, { env: {}, ignoreConfigFile: true });
    const client = createMoaClient({
      presets: { p: { references: [{ provider: 'local', model: 'a' }], aggregator: { provider: 'local', model: 'agg' } } },
      providers: { local: { baseURL: server.baseURL } }, defaultPreset: 'p', instrumentation: tracing.instrumentation,
      sessionId: 'unread', maxRetries: 0, env: {}, ignoreConfigFile: true,
    });
    const stream = await client.chat.completions.create({ model: 'moa', messages: [{ role: 'user', content: 'hi' }], stream: true });
    expect(stream).toBeDefined(); // never iterated
    await tracing.shutdown();
    const [record] = readRecords(path.join(dir, 'unread.jsonl'));
    expect(record).toMatchObject({ partial: true, partial_reason: 'shutdown' });
    expect(record!.references[0].output).toBe('advice');
    expect(record!.aggregator).toMatchObject({ model: 'agg', streamed: true, error: 'not ended' });
  });

  it('writes open iterations when a short-lived process exits without shutdown', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-exit-'));
    const script = path.join(dir, 'cli.mjs');
    writeFileSync(script, `
      import { setupMoaTracing } from ${JSON.stringify(path.join(REPO, 'dist/index.js'))};
      const tracing = setupMoaTracing({ save_traces: true, trace_dir: ${JSON.stringify(dir)} }, { env: {}, ignoreConfigFile: true });
      const turn = tracing.instrumentation.startTurn({ sessionId: 'exit', preset: 'p' });
      turn.startReference({ index: 0, model: 'm', provider: 'p', messages: [] }).end({ output: 'paid for' });
      turn.startAggregator({ model: 'agg', provider: 'p', messages: [] });
      process.exitCode = 0; // ends without shutdown(), the aggregator still open
    `);
    execFileSync(process.execPath, [script], { stdio: 'pipe' });
    const [record] = readRecords(path.join(dir, 'exit.jsonl'));
    expect(record).toMatchObject({ partial: true, partial_reason: 'process exit' });
    expect(record!.references[0].output).toBe('paid for');
  });
});
