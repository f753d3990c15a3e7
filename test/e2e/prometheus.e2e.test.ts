/**
 * Metrics a user can look at: `moa-otel demo` sends its metrics over OTLP to
 * the collector (collector/otelcol.yaml), whose Prometheus exporter serves
 * them on /metrics. Scraped over HTTP like a Prometheus server does, the
 * cost and token series of the demo's turns carry the values of the JSONL
 * records (and, for the cache-HIT iteration the file leaves out, of the
 * spans), under the names and labels collector/README.md documents.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import * as A from '../../src/trace/attributes.js';
import { callMetricAttributes, MoaMetrics } from '../../src/trace/metrics.js';
import { collectorFileSpans, waitForFileSpans } from './support/backends.js';
import { readTurnRecords, recordSpanIds, runDemo, type CallRecord, type TurnRecordLine } from './support/moa.js';
import { waitUntil } from './support/processes.js';
import { samplesOf, scrapePrometheus, type PrometheusScrape } from './support/prometheus.js';
import { COLLECTOR_CONFIG, REPO_ROOT, startCollector, type Collector } from './support/stack.js';

/** The service name the demo reports; the exporter turns service.name into the `job` label. */
const DEMO_JOB = 'moa-otel-demo';

/** Input tokens as the GenAI conventions count them: cached and cache-written ones included. */
function inputTokens(call: CallRecord): number {
  const u = call.usage ?? {};
  return (u.input_tokens ?? 0) + (u.cache_read_tokens ?? 0) + (u.cache_write_tokens ?? 0);
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** One sample's value; fails unless exactly one series matches. */
function only(scrape: PrometheusScrape, name: string, labels: Record<string, string>): number {
  const found = samplesOf(scrape, name, labels);
  expect(found, `${name}${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0]?.value ?? Number.NaN;
}

describe('the collector’s Prometheus exporter', () => {
  let work: string;
  let collector: Collector;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'moa-e2e-prometheus-'));
    // Spans to the file only: this test reads metrics, the spans are its second witness.
    collector = await startCollector(work, { jaegerOtlpGrpcEndpoint: '127.0.0.1:9', tracesExporters: '[file/spans]', spanFile: join(work, 'out', 'spans.jsonl') });
  });
  afterAll(async () => {
    await collector?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('serves the cost, token, duration and turn metrics of demo turns on /metrics, with the values of their records', async () => {
    // Before any turn: the endpoint is there, and holds nothing of moa-otel.
    const empty = await scrapePrometheus(collector.prometheusUrl);
    expect(empty.contentType).toMatch(/^text\/plain/);
    expect(empty.samples.filter((s) => s.name.startsWith('moa_'))).toEqual([]);

    const demo = await runDemo({ dir: join(work, 'traces'), otlpUrl: collector.otlpHttpUrl, home: join(work, 'home') });
    expect(demo.exitCode).toBe(0);
    const records: TurnRecordLine[] = await readTurnRecords(demo.sessionFile);
    expect(records.length).toBeGreaterThanOrEqual(2);

    // The demo flushes its metrics as it shuts down; the collector batches them for up to 200 ms here.
    const scrape = await waitUntil(
      'the demo’s turns on /metrics',
      async () => {
        const s = await scrapePrometheus(collector.prometheusUrl);
        return samplesOf(s, 'moa_turns_total', { job: DEMO_JOB, moa_cache: 'miss' }).length > 0 ? s : undefined;
      },
      30_000,
      250,
    );
    process.stderr.write(`[e2e] scraped ${scrape.samples.length} samples from ${collector.prometheusUrl}\n`);

    // Prometheus' names: dots to underscores, `_total` on counters, the unit `s` as `_seconds`, `{USD}`/`{token}` dropped.
    expect(scrape.types.get('moa_cost_total')).toBe('counter');
    expect(scrape.types.get('moa_turns_total')).toBe('counter');
    expect(scrape.types.get('gen_ai_client_token_usage')).toBe('histogram');
    expect(scrape.types.get('gen_ai_client_operation_duration_seconds')).toBe('histogram');

    // Every iteration that made reference calls wrote a record; the demo's repeated question is a cache HIT.
    expect(only(scrape, 'moa_turns_total', { job: DEMO_JOB, moa_preset: records[0]?.preset ?? '', moa_cache: 'miss' })).toBe(records.length);

    // The spans carry the provider name the metrics are labelled with, and the HIT iteration's aggregator call.
    const spanIds = records.flatMap(recordSpanIds);
    await waitForFileSpans(collector.spanFile, spanIds);
    const chatSpans = (await collectorFileSpans(collector.spanFile)).filter((s) => s.attributes[A.GEN_AI_OPERATION_NAME] === A.OPERATION_CHAT);
    const providerOf = (model: string) => String(chatSpans.find((s) => s.attributes[A.GEN_AI_REQUEST_MODEL] === model)?.attributes[A.GEN_AI_PROVIDER_NAME]);

    const referenceModels = [...new Set(records.flatMap((r) => r.references.map((ref) => ref.model)))];
    expect(referenceModels.length).toBeGreaterThanOrEqual(2);
    for (const model of referenceModels) {
      const calls = records.flatMap((r) => r.references.filter((ref) => ref.model === model));
      const labels = { job: DEMO_JOB, gen_ai_request_model: model, gen_ai_provider_name: providerOf(model) };
      const cost = sum(calls.map((c) => Number(c.cost_usd)));
      expect(cost, `${model}: the records price every call`).toBeGreaterThan(0);
      expect(only(scrape, 'moa_cost_total', { ...labels, moa_role: A.ROLE_REFERENCE })).toBeCloseTo(cost, 15);
      expect(only(scrape, 'gen_ai_client_token_usage_sum', { ...labels, gen_ai_token_type: 'input' })).toBe(sum(calls.map(inputTokens)));
      expect(only(scrape, 'gen_ai_client_token_usage_sum', { ...labels, gen_ai_token_type: 'output' })).toBe(sum(calls.map((c) => c.usage?.output_tokens ?? 0)));
      expect(only(scrape, 'gen_ai_client_token_usage_count', { ...labels, gen_ai_token_type: 'input' })).toBe(calls.length);
      expect(only(scrape, 'gen_ai_client_operation_duration_seconds_count', labels)).toBe(calls.length);
      expect(only(scrape, 'gen_ai_client_operation_duration_seconds_sum', labels)).toBeGreaterThan(0);
    }

    // The aggregator answered in every iteration, HIT ones included: its tokens are those of its spans.
    const aggregatorModel = records[0]?.aggregator.model ?? '';
    const aggregatorSpans = chatSpans.filter((s) => s.attributes[A.MOA_ROLE] === A.ROLE_AGGREGATOR && s.attributes[A.GEN_AI_REQUEST_MODEL] === aggregatorModel);
    expect(aggregatorSpans.length).toBeGreaterThan(records.length);
    const aggregatorLabels = { job: DEMO_JOB, gen_ai_request_model: aggregatorModel, gen_ai_provider_name: providerOf(aggregatorModel) };
    expect(only(scrape, 'gen_ai_client_token_usage_sum', { ...aggregatorLabels, gen_ai_token_type: 'input' }))
      .toBe(sum(aggregatorSpans.map((s) => Number(s.attributes[A.GEN_AI_USAGE_INPUT_TOKENS]))));
    expect(only(scrape, 'gen_ai_client_token_usage_count', { ...aggregatorLabels, gen_ai_token_type: 'output' })).toBe(aggregatorSpans.length);
    // A subscription call (cost status `included`) costs nothing, and says so.
    expect(records.every((r) => Number(r.aggregator.cost_usd) === 0 && r.aggregator.cost_status === 'included')).toBe(true);
    expect(only(scrape, 'moa_cost_total', { ...aggregatorLabels, moa_role: A.ROLE_AGGREGATOR })).toBe(0);

    // The whole session's spend, summed the way a dashboard would (sum(moa_cost_total{job=...})).
    const sessionCost = sum(records.flatMap((r) => [...r.references, r.aggregator]).map((c) => Number(c.cost_usd ?? 0)));
    expect(sum(samplesOf(scrape, 'moa_cost_total', { job: DEMO_JOB }).map((s) => s.value))).toBeCloseTo(sessionCost, 15);
  });

  it('every instrument moa-otel defines appears under the Prometheus name collector/README.md documents', async () => {
    const job = `moa-e2e-names-${Date.now()}`;
    const meterProvider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': job }),
      readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${collector.otlpHttpUrl}/v1/metrics` }), exportIntervalMillis: 3_600_000 })],
    });
    const metrics = new MoaMetrics(() => meterProvider);
    const attributes = () => callMetricAttributes({ provider: 'openai', requestModel: 'gpt-4o-mini' });
    // One of each: a streamed reference that failed, a priced aggregator call, a turn, a live-insights share.
    metrics.callEnded({ role: A.ROLE_REFERENCE, attributes, durationSeconds: 0.5, usage: null, timeToFirstChunkSeconds: 0.1, errorType: 'timeout', costUsd: null });
    metrics.callEnded({
      role: A.ROLE_AGGREGATOR, attributes, durationSeconds: 1.5, timeToFirstChunkSeconds: null, errorType: null, costUsd: 0.25,
      usage: { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
    });
    metrics.turnEnded('duo', 'miss');
    metrics.uniqueContribution('duo', 'ref-a', 0.4);
    await meterProvider.forceFlush();
    await meterProvider.shutdown();

    const scrape = await waitUntil(
      'the probe’s metrics on /metrics',
      async () => {
        const s = await scrapePrometheus(collector.prometheusUrl);
        return samplesOf(s, 'moa_insights_unique_contribution_count', { job }).length > 0 ? s : undefined;
      },
      30_000,
      250,
    );
    const families = new Map([...scrape.types].filter(([name]) => scrape.samples.some((s) => s.labels.job === job && (s.name === name || s.name.startsWith(`${name}_`)))));
    // The table of collector/README.md ("Metrics in Prometheus").
    expect(Object.fromEntries(families)).toEqual({
      gen_ai_client_token_usage: 'histogram',
      gen_ai_client_operation_duration_seconds: 'histogram',
      gen_ai_client_operation_time_to_first_chunk_seconds: 'histogram',
      moa_turns_total: 'counter',
      moa_reference_failures_total: 'counter',
      moa_cost_total: 'counter',
      moa_insights_unique_contribution: 'histogram',
    });
    expect(only(scrape, 'moa_cost_total', { job, moa_role: A.ROLE_AGGREGATOR, gen_ai_request_model: 'gpt-4o-mini' })).toBe(0.25);
    expect(only(scrape, 'moa_reference_failures_total', { job, error_type: 'timeout', gen_ai_provider_name: 'openai' })).toBe(1);
    expect(only(scrape, 'moa_turns_total', { job, moa_preset: 'duo', moa_cache: 'miss' })).toBe(1);
    expect(only(scrape, 'gen_ai_client_operation_duration_seconds_sum', { job, error_type: 'timeout' })).toBe(0.5);
    expect(only(scrape, 'gen_ai_client_operation_time_to_first_chunk_seconds_count', { job })).toBe(1);
    expect(only(scrape, 'moa_insights_unique_contribution_sum', { job, moa_label: 'ref-a' })).toBe(0.4);
  });
});

describe('Prometheus in docker-compose.yml', () => {
  it('scrapes the collector service on the port its exporter listens on and publishes, keeping the application’s job label', async () => {
    const compose = parseYaml(await readFile(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { image?: string; ports?: string[]; volumes?: string[]; profiles?: string[]; environment?: Record<string, string> }>;
    };
    const config = parseYaml(await readFile(COLLECTOR_CONFIG, 'utf8')) as { exporters: Record<string, { endpoint?: string }> };
    // The exporter's port when the compose file sets no PROMETHEUS_PORT.
    const port = config.exporters.prometheus?.endpoint?.match(/\$\{env:PROMETHEUS_PORT:-(\d+)\}$/)?.[1];
    expect(port).toBe('8889');
    expect(compose.services['otel-collector']?.environment?.PROMETHEUS_PORT).toBeUndefined();
    expect(compose.services['otel-collector']?.ports).toContain(`${port}:${port}`);

    const prometheus = compose.services.prometheus;
    expect(prometheus?.profiles, 'starts with a plain `docker compose up`').toBeUndefined();
    expect(prometheus?.ports).toContain('9090:9090');
    const mount = prometheus?.volumes?.find((v) => v.endsWith(':/etc/prometheus/prometheus.yml:ro'));
    expect(mount).toBe('./collector/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    const scrape = parseYaml(await readFile(join(REPO_ROOT, 'collector', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{ honor_labels?: boolean; static_configs: Array<{ targets: string[] }> }>;
    };
    expect(scrape.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets))).toEqual([`otel-collector:${port}`]);
    expect(scrape.scrape_configs[0]?.honor_labels).toBe(true);
  });
});
