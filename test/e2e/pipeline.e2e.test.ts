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
import { binaries, COLLECTOR_CONFIG, REPO_ROOT, startCollector, startJaeger, type Collector, type Jaeger } from './support/stack.js';

const execFileAsync = promisify(execFile);

/** The environment docker-compose.yml gives the collector container. */
const COMPOSE_COLLECTOR_ENV = {
  OTLP_HOST: '0.0.0.0',
  JAEGER_OTLP_ENDPOINT: 'jaeger:4317',
  SPAN_FILE_PATH: '/var/lib/otelcol/out/spans.jsonl',
};

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

  it('the configuration docker-compose.yml mounts validates with the built collector', async () => {
    const compose = parseYaml(await readFile(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { volumes?: string[]; environment?: Record<string, string>; image?: string }>;
    };
    const collector = compose.services['otel-collector'];
    expect(collector?.volumes).toContain('./collector/otelcol.yaml:/etc/otelcol-contrib/config.yaml:ro');
    expect(collector?.environment).toMatchObject(COMPOSE_COLLECTOR_ENV);
    expect(collector?.image).toBe('otel/opentelemetry-collector-contrib:0.161.0');

    const result = await validate(COLLECTOR_CONFIG, collector?.environment ?? {});
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  it('validation is real: a config naming an unknown component is rejected', async () => {
    const broken = join(scratch, 'broken.yaml');
    const text = (await readFile(COLLECTOR_CONFIG, 'utf8')).replace(
      'exporters: [otlp_grpc/jaeger, file/spans]',
      'exporters: [otlp_grpc/jaeger, file/spans, kafka]',
    );
    await writeFile(broken, text);
    const result = await validate(broken, COMPOSE_COLLECTOR_ENV);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('kafka');
  });

  it('the builder manifest holds exactly the components the configuration uses', async () => {
    const config = parseYaml(await readFile(COLLECTOR_CONFIG, 'utf8')) as Record<string, Record<string, unknown>>;
    const used = (section: string) => Object.keys(config[section] ?? {}).map((id) => id.split('/')[0]).sort();
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

  it('every turn arrives in Jaeger and in the collector file as the MoA span tree of its JSONL record', async () => {
    const demo = await runDemo({ dir: join(work, 'traces'), otlpUrl: collector.otlpHttpUrl, home: join(work, 'home') });
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
      const roots = spans.filter((s) => s.name === A.ROOT_SPAN_NAME);
      expect(roots).toHaveLength(1);
      expect(roots[0]?.attributes[A.MOA_CACHE]).toBe('hit');
      expect(spans.filter((s) => s.attributes[A.MOA_ROLE] === A.ROLE_REFERENCE)).toEqual([]);
    }
  });
});
