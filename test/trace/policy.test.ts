/**
 * Policy belongs to the object that applies it: two pipelines with different
 * redaction never see each other's policy, and a second loaded copy of the
 * package cannot bypass the redaction of the sink that writes the file.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type * as Moa from '../../src/index.js';
import { createMoaSpanProcessors } from '../../src/setup/processors.js';

const SECRET = 'sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6';
const REPO = path.resolve(import.meta.dirname, '../..');

function turnWithSecret(instrumentation: Moa.MoaTurnStarter, sessionId: string): void {
  const turn = instrumentation.startTurn({ sessionId, preset: 'p' });
  turn.startReference({ index: 0, model: 'm', provider: 'p', messages: [{ role: 'user', content: `my key is ${SECRET}` }] })
    .end({ output: `echo ${SECRET}` });
  turn.startAggregator({ model: 'agg', provider: 'p', messages: [{ role: 'user', content: SECRET }] }).end({ output: 'ok' });
  turn.end();
}

function pipeline(options: Moa.MoaOptions) {
  const dir = mkdtempSync(path.join(tmpdir(), 'moa-policy-'));
  const processors = createMoaSpanProcessors({ save_traces: true, trace_dir: dir, ...options }, { env: {}, ignoreConfigFile: true });
  const memory = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [...processors, new SimpleSpanProcessor(memory)] });
  processors.instrumentation.setTracerProvider(provider);
  return { dir, processors, memory, provider };
}

afterEach(() => {
  trace.disable();
});

describe('two policies side by side', () => {
  it('a later pipeline without redaction does not unmask an earlier one, nor the reverse', async () => {
    const masked = pipeline({ redact: true });
    // The old registry made the LAST createMoaSpanProcessors call decide for every tracer.
    const plain = pipeline({});
    turnWithSecret(masked.processors.instrumentation, 'a');
    turnWithSecret(plain.processors.instrumentation, 'b');
    await Promise.all([masked.provider.forceFlush(), plain.provider.forceFlush()]);

    const maskedSpans = JSON.stringify(masked.memory.getFinishedSpans().map((s) => s.attributes));
    expect(maskedSpans).toContain('gen_ai.input.messages');
    expect(maskedSpans).not.toContain(SECRET);
    expect(readFileSync(path.join(masked.dir, 'a.jsonl'), 'utf8')).not.toContain(SECRET);
    expect(readFileSync(path.join(masked.dir, 'a.jsonl'), 'utf8')).toContain('[REDACTED]');

    // Redaction was not asked for here: the content is kept as sent.
    expect(JSON.stringify(plain.memory.getFinishedSpans().map((s) => s.attributes))).toContain(SECRET);
    expect(readFileSync(path.join(plain.dir, 'b.jsonl'), 'utf8')).toContain(SECRET);
  });

  it("a sink masks content another instrumentation left unmasked (the file's policy is the file's)", async () => {
    const masked = pipeline({ redact: true });
    // An instrumentation that does not redact, recording into the masking pipeline's provider.
    const { MoaInstrumentation } = await import('../../src/trace/instrumentation.js');
    turnWithSecret(new MoaInstrumentation({ tracerProvider: masked.provider }), 'c');
    await masked.provider.shutdown();
    const line = readFileSync(path.join(masked.dir, 'c.jsonl'), 'utf8');
    expect(line).not.toContain(SECRET);
    expect(JSON.parse(line).references[0].input_messages).toEqual([{ role: 'user', content: 'my key is [REDACTED]' }]);
  });

  it("a sink masks identifiers (preset, model, provider, label) another instrumentation left unmasked", async () => {
    const masked = pipeline({ redact: true });
    const { MoaInstrumentation } = await import('../../src/trace/instrumentation.js');
    const plain = new MoaInstrumentation({ tracerProvider: masked.provider });
    const turn = plain.startTurn({ sessionId: 'ids', preset: `preset-${SECRET}` });
    turn.startReference({ index: 0, model: `m-${SECRET}`, provider: `p-${SECRET}`, label: `l-${SECRET}`, messages: [] }).end({ output: 'a' });
    // No label: the record composes one from provider and model.
    turn.startAggregator({ model: `agg-${SECRET}`, provider: `p-${SECRET}`, messages: [] }).end({ output: 'ok' });
    turn.end();
    await masked.provider.shutdown();
    const line = readFileSync(path.join(masked.dir, 'ids.jsonl'), 'utf8');
    expect(line).not.toContain(SECRET);
    const record = JSON.parse(line);
    expect(record.preset).toBe('preset-[REDACTED]');
    expect(record.references[0]).toMatchObject({ model: 'm-[REDACTED]', provider: 'p-[REDACTED]', label: 'l-[REDACTED]' });
    expect(record.aggregator).toMatchObject({ model: 'agg-[REDACTED]', provider: 'p-[REDACTED]', label: 'p-[REDACTED]:agg-[REDACTED]' });
  });
});

describe("a masking pipeline's span sink", () => {
  it('masks identifiers (span name, model, provider, label, preset, session) another instrumentation left unmasked', async () => {
    const { ContentPolicy } = await import('../../src/trace/content-policy.js');
    const { MoaInstrumentation } = await import('../../src/trace/instrumentation.js');
    const { MoaSpansOnly } = await import('../../src/setup/processors.js');
    const memory = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({ spanProcessors: [new MoaSpansOnly(new SimpleSpanProcessor(memory), new ContentPolicy({ redact: true }))] });
    const turn = new MoaInstrumentation({ tracerProvider: provider }).startTurn({ sessionId: `s-${SECRET}`, preset: `preset-${SECRET}` });
    turn.startReference({ index: 0, model: `m-${SECRET}`, provider: `p-${SECRET}`, label: `l-${SECRET}`, messages: [] }).end({ output: 'a' });
    turn.startAggregator({ model: `agg-${SECRET}`, provider: 'p', messages: [] }).end({ output: 'ok' });
    turn.end();
    await provider.forceFlush();
    const spans = memory.getFinishedSpans();
    expect(spans).toHaveLength(3);
    const shipped = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes })));
    expect(shipped).toContain('m-[REDACTED]');
    expect(shipped).not.toContain(SECRET);
  });
});

describe('two loaded copies of moa-otel', () => {
  let copyA: typeof Moa;
  let copyB: typeof Moa;

  beforeAll(async () => {
    // Two real copies of the built package (as with a nested install, or CJS next to ESM),
    // sharing the one @opentelemetry/api of the app, as a peer dependency is shared.
    const root = mkdtempSync(path.join(tmpdir(), 'moa-copies-'));
    for (const name of ['a', 'b']) {
      cpSync(path.join(REPO, 'dist'), path.join(root, name, 'dist'), { recursive: true });
      cpSync(path.join(REPO, 'package.json'), path.join(root, name, 'package.json'));
      symlinkSync(path.join(REPO, 'node_modules'), path.join(root, name, 'node_modules'));
    }
    copyA = await import(pathToFileURL(path.join(root, 'a', 'dist', 'index.js')).href) as typeof Moa;
    copyB = await import(pathToFileURL(path.join(root, 'b', 'dist', 'index.js')).href) as typeof Moa;
    expect(copyA.MoaInstrumentation).not.toBe(copyB.MoaInstrumentation);
  });

  it("copy A's masking file sink never gets the secret from copy B's plain instrumentation", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-copies-traces-'));
    const tracing = copyA.setupMoaTracing({ save_traces: true, trace_dir: dir, redact: true }, { env: {}, ignoreConfigFile: true, registerGlobal: true });
    // Copy B's instrumentation that masks nothing, on the global provider, which is copy A's.
    const turn = new copyB.MoaInstrumentation().startTurn({ sessionId: 'copies', preset: 'p' });
    turn.startReference({ index: 0, model: 'm', provider: 'p', messages: [{ role: 'user', content: `key ${SECRET}` }] }).end({ output: SECRET });
    turn.startAggregator({ model: 'agg', provider: 'p', messages: [] }).end({ output: 'fine' });
    turn.end();
    await tracing.shutdown();
    const line = readFileSync(path.join(dir, 'copies.jsonl'), 'utf8');
    const record = JSON.parse(line);
    expect(line).not.toContain(SECRET);
    // The exact messages still arrived across the copies (the payload, not the span attribute).
    expect(record.references[0].input_messages).toEqual([{ role: 'user', content: 'key [REDACTED]' }]);
    expect(record.references[0].output).toBe('[REDACTED]');
  });

  it("copy B's startMoaTurn records through copy A's live setupMoaTracing pipeline, under its policy, and through none after its shutdown", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-copies-traces-'));
    const tracing = copyA.setupMoaTracing({ save_traces: true, trace_dir: dir, redact: true }, { env: {}, ignoreConfigFile: true, notice: () => {} });
    const turn = copyB.startMoaTurn({ sessionId: 'sugar', preset: 'p' });
    turn.startReference({ index: 0, model: 'm', provider: 'p', messages: [{ role: 'user', content: `key ${SECRET}` }] }).end({ output: 'ok' });
    turn.startAggregator({ model: 'agg', provider: 'p', messages: [] }).end({ output: 'fine' });
    turn.end();
    await tracing.shutdown();
    expect(copyB.startMoaTurn({ sessionId: 'after', preset: 'p' }).recording).toBe(false);
    const record = JSON.parse(readFileSync(path.join(dir, 'sugar.jsonl'), 'utf8'));
    expect(record.references[0].input_messages).toEqual([{ role: 'user', content: 'key [REDACTED]' }]);
  });
});

describe('a session id that is itself a secret', () => {
  it('is masked in the spans, the record and the file name, and one id keeps one file', async () => {
    const masked = pipeline({ redact: true });
    const id = 'alice@example.com';
    turnWithSecret(masked.processors.instrumentation, id);
    turnWithSecret(masked.processors.instrumentation, id);
    await masked.provider.forceFlush();
    const spans = masked.memory.getFinishedSpans();
    const everything = JSON.stringify(spans.map((s) => s.attributes)) + readdirSync(masked.dir).join('\n');
    expect(everything).not.toContain('alice@example.com');
    const [file] = readdirSync(masked.dir);
    expect(file).toMatch(/^_REDACTED_-[0-9a-f]{12}\.jsonl$/);
    const records = readFileSync(path.join(masked.dir, file!), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(2);
    expect(records[0].session_id).toBe(spans[0]!.attributes['gen_ai.conversation.id']);
    expect(records[0].session_id).toMatch(/^\[REDACTED\]-[0-9a-f]{12}$/);
  });
});
