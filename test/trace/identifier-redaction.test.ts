/**
 * Under `redact`, identifiers go through the policy like content: a model,
 * provider, label, preset, response id or server address holding a key or
 * an e-mail address reaches no sink unmasked — not the file, not the span
 * attributes, not the metric attributes (read back through the real
 * metrics SDK), not what the offline commands print.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { diag, DiagLogLevel, metrics } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { createMoaSpanProcessors } from '../../src/setup/processors.js';
import { ContentPolicy } from '../../src/trace/content-policy.js';
import { captureIo } from '../offline/fixtures.js';

const KEY = 'sk-proj-Z9y8X7w6V5u4T3s2R1q0P9o8N7m6';
const MAIL = 'ann.secret@example.com';
const SECRETS = [KEY, MAIL, 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'];

afterEach(() => {
  metrics.disable();
  diag.disable();
});

function pipeline() {
  const dir = mkdtempSync(path.join(tmpdir(), 'moa-ident-'));
  const processors = createMoaSpanProcessors({ save_traces: true, trace_dir: dir, redact: true }, { env: {}, ignoreConfigFile: true });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new NodeTracerProvider({ spanProcessors: [...processors, new SimpleSpanProcessor(spans)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 })] });
  processors.instrumentation.setTracerProvider(tracerProvider);
  processors.instrumentation.setMeterProvider(meterProvider);
  return { dir, spans, tracerProvider, meterProvider, metricExporter, instrumentation: processors.instrumentation };
}

function secretsIn(text: string): string[] {
  return SECRETS.filter((secret) => text.includes(secret));
}

describe('identifiers under redact', () => {
  it('are masked in the file, the span attributes, the metric attributes and the offline output', async () => {
    const p = pipeline();
    const turn = p.instrumentation.startTurn({ sessionId: 'ident', preset: `preset-${KEY}` });
    turn.startReference({
      index: 0, model: `ft:gpt-4o:${MAIL}`, provider: `prov-${KEY}`, label: `mine ghp_abcdefghijklmnopqrstuvwxyz0123456789`,
      serverAddress: `${MAIL}`, serverPort: 443, messages: [{ role: 'user', content: 'hi' }],
    }).end({ output: 'ok', usage: { inputTokens: 3, outputTokens: 2 }, cost: { usd: '0.01', status: 'actual' }, response: { id: `chatcmpl-${KEY}`, model: `resp-${MAIL}` } });
    turn.startAggregator({ model: 'agg', provider: 'p', genAiProvider: `gen-${KEY}`, messages: [{ role: 'user', content: 'hi' }] })
      .end({ output: 'answer', usage: { inputTokens: 1, outputTokens: 1 }, response: { id: `resp-${KEY}` } });
    turn.end();
    await p.tracerProvider.forceFlush();
    await p.meterProvider.forceFlush();

    const file = path.join(p.dir, readdirSync(p.dir).find((name) => name.endsWith('.jsonl')) ?? 'missing');
    const line = readFileSync(file, 'utf8');
    expect(secretsIn(line)).toEqual([]);
    expect(line).toContain('ft:gpt-4o:[REDACTED]');

    const spanAttributes = JSON.stringify(p.spans.getFinishedSpans().map((s) => ({ name: s.name, attributes: s.attributes })));
    expect(secretsIn(spanAttributes)).toEqual([]);
    expect(spanAttributes).toContain('"gen_ai.response.id":"chatcmpl-[REDACTED]"');
    expect(spanAttributes).toContain('"server.address":"[REDACTED]"');

    const points = p.metricExporter.getMetrics().flatMap((batch) => batch.scopeMetrics.flatMap((s) => s.metrics.flatMap((m) => m.dataPoints.map((d) => d.attributes))));
    expect(points.length).toBeGreaterThan(0);
    expect(secretsIn(JSON.stringify(points))).toEqual([]);
    expect(points).toContainEqual(expect.objectContaining({ 'gen_ai.request.model': 'ft:gpt-4o:[REDACTED]', 'gen_ai.response.model': '[REDACTED]' }));

    for (const argv of [['show', file, '--json'], ['show', file, '--full'], ['stats', file, '--by', 'model'], ['stats', file, '--by', 'provider', '--json'], ['report', file, '-o', '-']]) {
      const io = captureIo({});
      expect(await runCli(argv, io.io), argv.join(' ')).toBe(0);
      expect(secretsIn(io.out + io.err), argv.join(' ')).toEqual([]);
    }
    await p.tracerProvider.shutdown();
  });

  it('a redact pattern the linear engine refuses is reported once through diag, without its text', () => {
    const lines: string[] = [];
    const log = (message: string) => lines.push(message);
    diag.setLogger({ error: log, warn: log, info: log, debug: log, verbose: log }, DiagLogLevel.WARN);
    const policy = new ContentPolicy({ redact: [/fine-\d+/, /hunter2(?=!)/] });
    expect(policy.redactText('anything')).toBe('[REDACTED]');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^moa-otel: redact pattern 1 refused \(.*lookahead.*\); every text is masked whole until it is fixed$/);
    expect(lines[0]).not.toContain('hunter2');
  });
});
