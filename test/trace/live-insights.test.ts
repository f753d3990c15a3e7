/**
 * Live insights (`insights_live: true`): each reference's agreement with and
 * unique contribution to the answer on the aggregator span and as a
 * histogram by label — the same numbers `moa-otel insights` computes from
 * the file the turn was written to. Off by default.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type HistogramMetricData } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/load.js';
import { analyzeInsights } from '../../src/offline/insights/run-insights.js';
import { createMoaSpanProcessors } from '../../src/setup/processors.js';
import { METRIC_UNIQUE_CONTRIBUTION } from '../../src/trace/metrics.js';

const dirs: string[] = [];
afterEach(() => {
  metrics.disable();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// Sentences of 6+ words, so every 3-gram is distinct.
const CARRIER = 'the bridge needs steel cables rated for heavy winter loads';
const SHARED = 'inspect every joint twice before the opening ceremony begins';
const STRAY = 'penguins prefer cold water and rarely visit tropical beaches';
const ANSWER = `${CARRIER}. ${SHARED}. also paint it blue for good measure`;

function pipeline(insightsLive: boolean | undefined) {
  const dir = mkdtempSync(path.join(tmpdir(), 'moa-live-insights-'));
  dirs.push(dir);
  const options = { save_traces: true, trace_dir: dir, ...(insightsLive !== undefined ? { insights_live: insightsLive } : {}) };
  const processors = createMoaSpanProcessors(options, { env: {}, ignoreConfigFile: true });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new NodeTracerProvider({ spanProcessors: [...processors, new SimpleSpanProcessor(spans)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 })] });
  processors.instrumentation.setTracerProvider(tracerProvider);
  processors.instrumentation.setMeterProvider(meterProvider);
  return { dir, spans, tracerProvider, meterProvider, metricExporter, instrumentation: processors.instrumentation };
}

function runTurn(p: ReturnType<typeof pipeline>): void {
  const turn = p.instrumentation.startTurn({ sessionId: 'live', preset: 'bridge' });
  const refs: [string, string | null][] = [['a:carrier', `${CARRIER}. and more about rivets`], ['b:echo', `${SHARED}.`], ['c:echo2', `${SHARED}. ${STRAY}.`], ['d:stray', `${STRAY}.`], ['e:down', null]];
  refs.forEach(([label, output], index) => {
    const call = turn.startReference({ index, label, model: label, provider: 'p', messages: [{ role: 'user', content: 'q' }] });
    if (output === null) call.fail(new Error('timeout'));
    else call.end({ output, usage: { inputTokens: 1, outputTokens: 1 }, cost: { usd: '0.001', status: 'actual' } });
  });
  turn.startAggregator({ model: 'agg', provider: 'p', messages: [{ role: 'user', content: 'q' }] })
    .end({ output: ANSWER, usage: { inputTokens: 1, outputTokens: 1 }, cost: { usd: '0.002', status: 'actual' } });
  turn.end();
}

describe('live insights', () => {
  it('puts agreement and unique contribution per reference on the aggregator span, equal to the offline measures', async () => {
    const p = pipeline(true);
    runTurn(p);
    await p.tracerProvider.forceFlush();
    await p.meterProvider.forceFlush();
    const aggregator = p.spans.getFinishedSpans().find((s) => s.attributes['moa.role'] === 'aggregator');
    const a = aggregator?.attributes ?? {};
    // The answer: the carrier's sentence, one that two advisors share, and words of the aggregator's own.
    expect(a['moa.insights.reference.0.label']).toBe('a:carrier');
    expect(a['moa.insights.reference.3.label']).toBe('d:stray');
    expect(a['moa.insights.reference.3.agreement']).toBe(0);
    expect(a['moa.insights.reference.3.unique_contribution']).toBe(0);
    expect(a['moa.insights.reference.1.unique_contribution']).toBe(0); // b and c both hold the shared sentence
    expect(a['moa.insights.reference.1.agreement']).toBe(a['moa.insights.reference.2.agreement']);
    expect(a['moa.insights.reference.0.unique_contribution']).toBe(a['moa.insights.reference.0.agreement']);
    expect(a['moa.insights.reference.0.unique_contribution'] as number).toBeGreaterThan(0.3);
    // a failed reference has no output: nothing to measure, no attribute
    expect(Object.keys(a).filter((k) => k.startsWith('moa.insights.reference.4.'))).toEqual([]);
    // the other spans carry none
    expect(p.spans.getFinishedSpans().filter((s) => Object.keys(s.attributes).some((k) => k.startsWith('moa.insights.')))).toHaveLength(1);

    // the same numbers as the offline analysis of the file the turn was written to
    const files = readdirSync(p.dir).filter((f) => f.endsWith('.jsonl')).map((f) => path.join(p.dir, f));
    const doc = await analyzeInsights(files, { workers: 0 });
    for (const [index, label] of ['a:carrier', 'b:echo', 'c:echo2', 'd:stray'].entries()) {
      const row = doc.references.find((r) => r.key === `bridge/${label}`);
      expect(a[`moa.insights.reference.${index}.agreement`]).toBeCloseTo(row?.agreement ?? -1, 4);
      expect(a[`moa.insights.reference.${index}.unique_contribution`]).toBeCloseTo(row?.unique_contribution ?? -1, 4);
    }

    const histogram = p.metricExporter.getMetrics().flatMap((b) => b.scopeMetrics.flatMap((s) => s.metrics))
      .find((m) => m.descriptor.name === METRIC_UNIQUE_CONTRIBUTION) as HistogramMetricData | undefined;
    expect(histogram?.descriptor.unit).toBe('1');
    const byLabel = Object.fromEntries((histogram?.dataPoints ?? []).map((d) => [d.attributes['moa.label'], d.value.sum]));
    expect(Object.keys(byLabel).sort()).toEqual(['a:carrier', 'b:echo', 'c:echo2', 'd:stray']);
    expect(byLabel['a:carrier']).toBeCloseTo(a['moa.insights.reference.0.unique_contribution'] as number, 4);
    expect(byLabel['d:stray']).toBe(0);
    expect(histogram?.dataPoints[0]?.attributes['moa.preset']).toBe('bridge');
  });

  it('is off by default: no attributes, no histogram', async () => {
    const p = pipeline(undefined);
    runTurn(p);
    await p.tracerProvider.forceFlush();
    await p.meterProvider.forceFlush();
    expect(p.spans.getFinishedSpans().some((s) => Object.keys(s.attributes).some((k) => k.startsWith('moa.insights.')))).toBe(false);
    const names = p.metricExporter.getMetrics().flatMap((b) => b.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name)));
    expect(names).not.toContain(METRIC_UNIQUE_CONTRIBUTION);
  });

  it('is switched on by insights_live in the config or MOA_INSIGHTS_LIVE', () => {
    expect(resolveConfig({}, { env: {}, ignoreConfigFile: true }).insights_live).toBe(false);
    expect(resolveConfig({}, { env: { MOA_INSIGHTS_LIVE: 'true' }, ignoreConfigFile: true }).insights_live).toBe(true);
    expect(resolveConfig({ insights_live: true }, { env: {}, ignoreConfigFile: true }).insights_live).toBe(true);
  });
});
