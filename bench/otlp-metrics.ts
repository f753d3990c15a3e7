/**
 * moa-otel's own meter provider and metrics encoder against the
 * OpenTelemetry SDK's (`@opentelemetry/sdk-metrics` MeterProvider, and
 * `@opentelemetry/otlp-transformer`'s protobuf serializer), on the same
 * measurements in one run: the cost of recording (what every model call
 * pays) and of one collection + encoding (what every export pays).
 * Reported as ours / theirs time (lower is better; target <= 1.5x).
 *
 *   node --import tsx bench/otlp-metrics.ts
 */
import { ValueType, type Attributes, type Meter, type MeterProvider as ApiMeterProvider } from '@opentelemetry/api';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { fileURLToPath } from 'node:url';
import { OwnMeterProvider } from '../src/export/otlp-metrics/meter-provider.js';
import { encodeProtobufMetricsRequest } from '../src/export/otlp-metrics/protobuf-encoder.js';

export interface MetricsBenchRow {
  label: string;
  oursMs: number;
  theirsMs: number;
  ratio: number;
}

class CollectingReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const MODELS = ['gpt-4o', 'claude-sonnet', 'gemini-pro', 'llama-70b', 'qwen-72b', 'mistral-large'];

/** What one MoA call records: duration and token histograms, a cost counter, by model, role and token type. */
function recorder(meter: Meter): (i: number) => void {
  const duration = meter.createHistogram('gen_ai.client.operation.duration', { unit: 's', advice: { explicitBucketBoundaries: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92] } });
  const tokens = meter.createHistogram('gen_ai.client.token.usage', { unit: '{token}', valueType: ValueType.INT, advice: { explicitBucketBoundaries: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864] } });
  const cost = meter.createCounter('moa.cost', { unit: 'USD' });
  return (i) => {
    const attributes: Attributes = {
      'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': MODELS[i % MODELS.length]!, 'moa.role': i % 4 === 0 ? 'aggregator' : 'reference',
    };
    duration.record((i % 997) / 100, attributes);
    tokens.record(100 + (i % 5000), { ...attributes, 'gen_ai.token.type': 'input' });
    tokens.record(10 + (i % 700), { ...attributes, 'gen_ai.token.type': 'output' });
    cost.add(0.0001 * (i % 13), { 'gen_ai.request.model': MODELS[i % MODELS.length]!, 'moa.role': attributes['moa.role']! });
  };
}

function time(work: () => void): number {
  const start = performance.now();
  work();
  return performance.now() - start;
}

/** Best of `rounds` runs, to keep a GC pause or a neighbour's burst out of the ratio. */
function best(rounds: number, work: () => void): number {
  let fastest = Infinity;
  for (let round = 0; round < rounds; round++) fastest = Math.min(fastest, time(work));
  return fastest;
}

function fill(provider: ApiMeterProvider, calls: number): void {
  const record = recorder(provider.getMeter('moa-otel', '0.1.0'));
  for (let i = 0; i < calls; i++) record(i);
}

export async function runOtlpMetricsBench(quick = false): Promise<MetricsBenchRow[]> {
  const calls = quick ? 20_000 : 200_000;
  const rounds = quick ? 3 : 5;
  const resource = { 'service.name': 'bench' };
  const rows: MetricsBenchRow[] = [];

  const oursRecord = best(rounds, () => fill(new OwnMeterProvider({ resourceAttributes: resource }), calls));
  const theirsRecord = best(rounds, () => fill(new MeterProvider({ resource: resourceFromAttributes(resource), readers: [new CollectingReader()] }), calls));
  rows.push({ label: `record ${calls} calls (4 measurements each)`, oursMs: oursRecord, theirsMs: theirsRecord, ratio: oursRecord / theirsRecord });

  // One export of many series: every model x role x token type, and a wide attribute set to stretch it to ~1000 series.
  const ours = new OwnMeterProvider({ resourceAttributes: resource });
  const reader = new CollectingReader();
  const theirs = new MeterProvider({ resource: resourceFromAttributes(resource), readers: [reader] });
  for (const provider of [ours, theirs] as ApiMeterProvider[]) {
    const histogram = provider.getMeter('moa-otel').createHistogram('wide', { advice: { explicitBucketBoundaries: [1, 10, 100, 1000] } });
    for (let i = 0; i < 50_000; i++) histogram.record(i % 1500, { series: i % 1000, model: MODELS[i % MODELS.length]! });
    fill(provider, 10_000);
  }
  const oursExport = best(rounds * 4, () => encodeProtobufMetricsRequest(ours.collect()));
  let theirsExport = Infinity;
  for (let round = 0; round < rounds * 4; round++) {
    const start = performance.now();
    const { resourceMetrics } = await reader.collect();
    ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
    theirsExport = Math.min(theirsExport, performance.now() - start);
  }
  rows.push({ label: 'collect + encode ~1000 series', oursMs: oursExport, theirsMs: theirsExport, ratio: oursExport / theirsExport });
  await theirs.shutdown();
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await runOtlpMetricsBench(process.env.BENCH_QUICK === '1')) {
    console.log(`${r.label.padEnd(40)} ours ${r.oursMs.toFixed(2)} ms  theirs ${r.theirsMs.toFixed(2)} ms  ratio ${r.ratio.toFixed(2)}x`);
  }
}
