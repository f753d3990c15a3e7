/**
 * The real pipeline: `moa-otel demo` → OpenTelemetry Collector (built from
 * collector/builder-config.yaml, configured by collector/otelcol.yaml) →
 * Jaeger v2 and the collector's OTLP JSON file.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import * as A from '../../src/trace/attributes.js';
import { expectTurnMatchesRecord } from './support/assert-turn.js';
import { collectorFileSpans, waitForFileSpans, waitForJaegerSpans } from './support/backends.js';
import { readTurnRecords, recordSpanIds, runDemo } from './support/moa.js';
import { keyValues } from './support/otlp-json.js';
import { waitUntil } from './support/processes.js';
import { binaries, COLLECTOR_CONFIG, REPO_ROOT, startCollector, startJaeger, type Collector, type Jaeger } from './support/stack.js';

const execFileAsync = promisify(execFile);

/** The environment docker-compose.yml gives the collector container. */
const COMPOSE_COLLECTOR_ENV = {
  OTLP_HOST: '0.0.0.0',
  JAEGER_OTLP_ENDPOINT: 'jaeger:4317',
  SPAN_FILE_PATH: '/var/lib/otelcol/out/spans.jsonl',
  METRICS_FILE_PATH: '/var/lib/otelcol/out/metrics.jsonl',
  PHOENIX_ENDPOINT: 'http://phoenix:6006',
};

/** Traces to Phoenix too: what collector/README.md tells a docker-compose user to set. */
const WITH_PHOENIX = '[otlp_grpc/jaeger, file/spans, otlp_http/phoenix]';

/** docker compose's `${NAME:-default}` interpolation, from the host environment given. */
function composeInterpolate(env: Record<string, string>, host: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => [key, value.replace(/\$\{([A-Z_]+):-([^}]*)\}/g, (_, name: string, fallback: string) => host[name] ?? fallback)]),
  );
}

async function validate(configPath: string, env: Record<string, string>): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(binaries().otelcol, ['validate', `--config=${configPath}`], {
      env: { PATH: process.env.PATH, ...env },
      timeout: 60_000,
    });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('collector configuration', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'moa-e2e-config-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('the configuration docker-compose.yml mounts validates with the built collector, with and without Phoenix', async () => {
    const compose = parseYaml(await readFile(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { volumes?: string[]; environment?: Record<string, string>; image?: string; profiles?: string[] }>;
    };
    const collector = compose.services['otel-collector'];
    expect(collector?.volumes).toContain('./collector/otelcol.yaml:/etc/otelcol-contrib/config.yaml:ro');
    expect(collector?.environment).toMatchObject(COMPOSE_COLLECTOR_ENV);
    expect(collector?.image).toBe('otel/opentelemetry-collector-contrib:0.161.0');

    const hosts: Array<Record<string, string>> = [{}, { TRACES_EXPORTERS: WITH_PHOENIX }];
    for (const host of hosts) {
      const result = await validate(COLLECTOR_CONFIG, composeInterpolate(collector?.environment ?? {}, host));
      expect(result.output, JSON.stringify(host)).toBe('');
      expect(result.ok, JSON.stringify(host)).toBe(true);
    }

    // The optional Phoenix service runs the version the e2e tests install, and stays quiet.
    const version = (await readFile(join(REPO_ROOT, 'scripts', 'phoenix.sh'), 'utf8')).match(/^PHOENIX_VERSION="([^"]+)"/m)?.[1];
    const phoenix = compose.services.phoenix;
    expect(phoenix?.image).toBe(`arizephoenix/phoenix:version-${version}`);
    expect(phoenix?.profiles).toEqual(['phoenix']);
    expect(phoenix?.environment).toMatchObject({ PHOENIX_TELEMETRY_ENABLED: 'false', PHOENIX_ALLOW_EXTERNAL_RESOURCES: 'false' });
  });

  it('the traces pipeline merges requests only through byte-bounded exporter batches, never the span-counting batch processor', async () => {
    const config = parseYaml(await readFile(COLLECTOR_CONFIG, 'utf8')) as {
      exporters: Record<string, { sending_queue?: { sizer?: string; batch?: { sizer?: string; max_size?: unknown } } }>;
      service: { pipelines: Record<string, { processors?: string[] }> };
    };
    expect(config.service.pipelines.traces?.processors).not.toContain('batch');
    for (const id of ['otlp_grpc/jaeger', 'otlp_http/phoenix']) {
      const queue = config.exporters[id]?.sending_queue;
      expect(queue?.batch?.sizer ?? queue?.sizer, id).toBe('bytes');
      expect(queue?.batch?.max_size, id).toBeDefined();
    }
  });

  it('validation is real: a config naming an unknown component is rejected', async () => {
    const broken = join(scratch, 'broken.yaml');
    const text = (await readFile(COLLECTOR_CONFIG, 'utf8')).replace('exporters: [file/metrics, prometheus]', 'exporters: [file/metrics, prometheus, kafka]');
    expect(text).toContain('kafka');
    await writeFile(broken, text);
    const result = await validate(broken, COMPOSE_COLLECTOR_ENV);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('kafka');
  });

  it('the builder manifest holds exactly the components the configuration uses', async () => {
    const config = parseYaml(await readFile(COLLECTOR_CONFIG, 'utf8')) as Record<string, Record<string, unknown>>;
    const used = (section: string) => [...new Set(Object.keys(config[section] ?? {}).map((id) => id.split('/')[0]))].sort();
    const { stdout } = await execFileAsync(binaries().otelcol, ['components'], { timeout: 60_000 });
    const built = parseYaml(stdout) as Record<string, Array<{ name: string }> | undefined>;
    const names = (section: string) => (built[section] ?? []).map((c) => c.name).sort();
    expect(names('receivers')).toEqual(used('receivers'));
    expect(names('processors')).toEqual(used('processors'));
    expect(names('exporters')).toEqual(used('exporters'));
    expect(names('extensions')).toEqual(used('extensions'));
    expect(names('connectors')).toEqual([]);
  });
});

/** The sum/gauge data points of one OTLP JSON ExportMetricsServiceRequest, flattened. */
function metricDataPoints(request: unknown): Array<{ metric: string; value: number; attributes: Record<string, unknown> }> {
  type Metric = { name: string; sum?: { dataPoints?: Point[] }; gauge?: { dataPoints?: Point[] } };
  type Point = { asInt?: string | number; asDouble?: number; attributes?: unknown };
  const r = request as { resourceMetrics?: Array<{ scopeMetrics?: Array<{ metrics?: Metric[] }> }> };
  return (r.resourceMetrics ?? []).flatMap((rm) =>
    (rm.scopeMetrics ?? []).flatMap((sm) =>
      (sm.metrics ?? []).flatMap((m) =>
        [...(m.sum?.dataPoints ?? []), ...(m.gauge?.dataPoints ?? [])].map((p) => ({
          metric: m.name,
          value: Number(p.asInt ?? p.asDouble),
          attributes: keyValues(p.attributes),
        })),
      ),
    ),
  );
}

describe('demo turns through the collector', () => {
  let work: string;
  let jaeger: Jaeger;
  let collector: Collector;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'moa-e2e-pipeline-'));
    jaeger = await startJaeger(work);
    collector = await startCollector(work, { jaegerOtlpGrpcEndpoint: jaeger.otlpGrpcEndpoint, spanFile: join(work, 'out', 'spans.jsonl') });
  });
  afterAll(async () => {
    await collector?.stop();
    await jaeger?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('metrics posted to the collector (OTLP/HTTP, /v1/metrics) land in its metrics file, not among the spans', async () => {
    const probe = `moa-e2e-${Date.now()}`;
    const nowNanos = String(BigInt(Date.now()) * 1_000_000n);
    const request = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'moa-otel-e2e' } }] },
          scopeMetrics: [
            {
              scope: { name: 'moa-otel' },
              metrics: [
                {
                  name: 'gen_ai.client.token.usage',
                  unit: '{token}',
                  sum: {
                    aggregationTemporality: 2,
                    isMonotonic: true,
                    dataPoints: [{ asInt: '42', timeUnixNano: nowNanos, startTimeUnixNano: nowNanos, attributes: [{ key: 'probe', value: { stringValue: probe } }] }],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const response = await fetch(`${collector.otlpHttpUrl}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    expect(response.status).toBe(200);

    const found = await waitUntil(
      'the collector metrics file to hold the posted data point',
      async () => {
        const text = await readFile(collector.metricsFile, 'utf8').catch(() => '');
        const points = text
          .split('\n')
          .filter((line) => line.trim() !== '')
          .flatMap((line) => metricDataPoints(JSON.parse(line)))
          .filter((p) => p.attributes.probe === probe);
        return points.length > 0 ? points : undefined;
      },
      30_000,
      250,
    );
    expect(found).toEqual([{ metric: 'gen_ai.client.token.usage', value: 42, attributes: { probe } }]);
    expect(await readFile(collector.spanFile, 'utf8').catch(() => '')).not.toContain(probe);
  });

  it('every turn arrives in Jaeger and in the collector file as the MoA span tree of its JSONL record', async () => {
    const demo = await runDemo({ dir: join(work, 'traces'), otlpUrl: collector.otlpHttpUrl, home: join(work, 'home') });
    expect(demo.exitCode).toBe(0);
    const records = await readTurnRecords(demo.sessionFile);
    expect(records.length).toBe(demo.records);
    expect(records.length).toBeGreaterThanOrEqual(2);
    expect(records.map((r) => r.trace_id)).toEqual(demo.traceIds);
    expect(records.every((r) => r.references.length >= 2)).toBe(true);

    for (const record of records) {
      const jaegerSpans = await waitForJaegerSpans(jaeger.queryUrl, record.trace_id, recordSpanIds(record));
      expectTurnMatchesRecord(jaegerSpans, record, { exactContent: true });

      const serviceName = jaegerSpans[0]?.resource['service.name'];
      expect(typeof serviceName).toBe('string');
      const services = (await (await fetch(`${jaeger.queryUrl}/api/v3/services`)).json()) as { services?: string[] };
      expect(services.services).toContain(serviceName);

      const fileSpans = (await waitForFileSpans(collector.spanFile, recordSpanIds(record))).filter((s) => s.traceId === record.trace_id);
      expectTurnMatchesRecord(fileSpans, record, { exactContent: true });
      // The same spans on both sides of the collector, attribute for attribute.
      for (const span of fileSpans) {
        const inJaeger = jaegerSpans.find((s) => s.spanId === span.spanId);
        expect(inJaeger?.name).toBe(span.name);
        expect(inJaeger?.parentSpanId).toBe(span.parentSpanId);
        for (const [key, value] of Object.entries(span.attributes)) expect(inJaeger?.attributes[key], key).toEqual(value);
      }
    }

    // Any other trace is a cache-HIT iteration (no JSONL line by default):
    // a root marked `hit` and no reference calls.
    const others = (await collectorFileSpans(collector.spanFile)).filter((s) => !demo.traceIds.includes(s.traceId));
    for (const traceId of new Set(others.map((s) => s.traceId))) {
      const spans = others.filter((s) => s.traceId === traceId);
      const roots = spans.filter((s) => s.name.startsWith(A.ROOT_SPAN_NAME));
      expect(roots).toHaveLength(1);
      expect(roots[0]?.attributes[A.MOA_CACHE]).toBe('hit');
      expect(spans.filter((s) => s.attributes[A.MOA_ROLE] === A.ROLE_REFERENCE)).toEqual([]);
    }
  });
});
