/**
 * Live turns → the real collector's file exporter → the offline readers:
 * the turn records rebuilt from the collector's OTLP JSON lines are the
 * JSONL lines written for the same turns (same keys in the same order, same
 * values but the write time), and its zstd-compressed form (length-prefixed
 * frames) reads the same on a Node that has zstd.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { readInput } from '../../src/offline/inputs.js';
import type { RecordProblem } from '../../src/offline/reader.js';
import type { TurnRecord } from '../../src/record/schema.js';
import { waitForFileSpans } from './support/backends.js';
import { readTurnRecords, recordScriptedTurn, recordSpanIds, sessionFiles, setupTestTracing } from './support/moa.js';
import { freePort, startService, waitForHealthy, type ServiceProcess } from './support/processes.js';
import { baseEnv, binaries, REPO_ROOT } from './support/stack.js';

/** The file exporter twice: plain JSON lines and zstd, as a user configures it (nothing else in the pipeline). */
const CONFIG = `
extensions:
  health_check:
    endpoint: 127.0.0.1:\${env:HEALTH_PORT}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:\${env:HTTP_PORT}
exporters:
  file/plain:
    path: \${env:OUT_DIR}/spans.jsonl
    format: json
    create_directory: true
    flush_interval: 100ms
  file/zstd:
    path: \${env:OUT_DIR}/spans.zst
    format: json
    compression: zstd
    create_directory: true
    flush_interval: 100ms
service:
  extensions: [health_check]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [file/plain, file/zstd]
  telemetry:
    metrics:
      level: none
`;

async function readAll(file: string) {
  const problems: RecordProblem[] = [];
  const records: TurnRecord[] = [];
  for await (const r of readInput({ file }, { onProblem: (p) => problems.push(p) })) records.push(r.record);
  return { records, problems };
}

function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keyPaths(v, `${prefix}[${i}]`));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [`${prefix}.${k}`, ...keyPaths(v, `${prefix}.${k}`)]);
  return [];
}

const TIME_KEYS = new Set(['started_at', 'ended_at', 'duration_ms']);
/** Without the write time; call and root times compared to the microsecond the OTLP nanoseconds and the file's seconds share. */
function comparable(record: object): unknown {
  const { ts: _ts, ...rest } = record as { ts: unknown };
  return JSON.parse(JSON.stringify(rest, (key, value: unknown) => (TIME_KEYS.has(key) && typeof value === 'number' ? Math.round(value * (key === 'duration_ms' ? 1 : 1e3)) : value)));
}

async function stats(file: string): Promise<string> {
  let out = '';
  const io = { stdout: { write: (s: string) => { out += s; return true; } }, stderr: { write: () => true }, env: { MOA_HOME: '/nonexistent' }, cwd: REPO_ROOT } as never;
  expect(await runCli(['stats', '--json', '--by', 'session', file], io)).toBe(0);
  return out;
}

describe('collector file exporter → readers', () => {
  let work: string;
  let collector: ServiceProcess;
  let outDir: string;
  let traceDir: string;
  let httpPort: number;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'moa-e2e-readers-'));
    outDir = join(work, 'out');
    traceDir = join(work, 'traces');
    const config = join(work, 'otelcol.yaml');
    await writeFile(config, CONFIG);
    const health = await freePort();
    httpPort = await freePort();
    collector = startService('collector', binaries().otelcol, ['--config', config], {
      ...baseEnv(), HEALTH_PORT: String(health), HTTP_PORT: String(httpPort), OUT_DIR: outDir,
    }, join(work, 'collector.log'));
    await waitForHealthy(collector, `http://127.0.0.1:${health}/`);
  }, 120_000);

  afterAll(async () => {
    await collector?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('turns rebuilt from the collector\'s OTLP JSON lines are the JSONL lines of the same turns', async () => {
    const tracing = setupTestTracing({ dir: traceDir, home: work, otlpUrl: `http://127.0.0.1:${httpPort}` });
    const messages = [{ role: 'system' as const, content: 'Advise briefly.' }, { role: 'user' as const, content: 'Zähle bis 3 — 日本' }];
    for (const sessionId of ['e2e-readers-a', 'e2e-readers-b']) {
      recordScriptedTurn(tracing, {
        sessionId, preset: 'p',
        references: [
          { model: 'ref-a', provider: 'openai', messages, output: 'eins zwei drei' },
          { model: 'ref-b', provider: 'local', messages, output: 'one two three' },
        ],
        aggregator: { model: 'agg', provider: 'openai', messages: [...messages, { role: 'user', content: 'guidance' }], output: '1, 2, 3' },
      });
    }
    await tracing.forceFlush();
    await tracing.shutdown();
    const files = (await sessionFiles(traceDir)).sort();
    expect(files).toHaveLength(2);
    const lines = (await Promise.all(files.map((f) => readTurnRecords(f)))).flat();
    expect(lines).toHaveLength(2);
    await waitForFileSpans(join(outDir, 'spans.jsonl'), lines.flatMap(recordSpanIds));

    const { records, problems } = await readAll(join(outDir, 'spans.jsonl'));
    expect(problems).toEqual([]);
    expect(records).toHaveLength(2);
    for (const line of lines) {
      const rebuilt = records.find((r) => r.trace_id === line.trace_id);
      expect(rebuilt, line.trace_id as string).toBeDefined();
      const fromFile = (await readAll(files.find((f) => f.includes(line.session_id as string)) as string)).records[0] as object;
      expect(keyPaths(rebuilt)).toEqual(keyPaths(fromFile));
      expect(comparable(rebuilt as object)).toEqual(comparable(line));
    }
    // The commands agree on both forms.
    expect(await stats(join(outDir, 'spans.jsonl'))).toBe(await stats(traceDir));

    // The zstd form: length-prefixed frames; read by a Node that has zstd (this one may not).
    await new Promise((r) => setTimeout(r, 500));
    const node24 = spawnSync('bash', [join(REPO_ROOT, 'scripts/node-version.sh'), '24'], { encoding: 'utf8', timeout: 300_000 });
    expect(node24.status, node24.stderr).toBe(0);
    const run = (file: string) => spawnSync(node24.stdout.trim(), ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'show', '--json', file], {
      cwd: REPO_ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, MOA_HOME: '/nonexistent' }, timeout: 60_000, maxBuffer: 64 * 1024 * 1024,
    });
    const zstd = run(join(outDir, 'spans.zst'));
    expect(zstd.stderr).toBe('');
    const plain = run(join(outDir, 'spans.jsonl'));
    expect(zstd.stdout).toBe(plain.stdout);
    expect(zstd.stdout.trim().split('\n')).toHaveLength(2);
  }, 120_000);
});
