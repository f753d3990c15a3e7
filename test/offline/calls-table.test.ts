/**
 * `export --format calls` proved with real engines: DuckDB reads the Parquet
 * (and the CSV and JSON Lines), and the queries printed in
 * docs/calls-table.md return the numbers `stats` prints; chDB (ClickHouse
 * in-process, from scripts/chdb.sh's venv) runs the ClickHouse form of the
 * same query over the same file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { decimalText, parseDecimal } from '../../src/record/decimal.js';
import { isoMicros, micros } from '../../src/offline/calls-table.js';
import { captureIo, makeTraceDir, oursRecord, type TraceDir } from './fixtures.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DOC = readFileSync(path.join(ROOT, 'docs/calls-table.md'), 'utf8');

/** The SQL block under `<!-- query: NAME -->` in the doc, reading `file`. */
function docQuery(name: string, file: string): string {
  const match = new RegExp(`<!-- query: ${name} -->\\n\`\`\`sql\\n([\\s\\S]*?)\`\`\``).exec(DOC);
  if (!match) throw new Error(`docs/calls-table.md has no query ${name}`);
  return (match[1] as string).replaceAll("'calls.parquet'", `'${file}'`);
}

async function cli(argv: string[]) {
  const cap = captureIo();
  const code = await runCli(argv, cap.io);
  return { code, out: cap.out, err: cap.err };
}

interface Ref { model: string; cost: string | number | null; fail?: boolean; ms: number }

/** A turn of `preset` with the given references (distinct models from the aggregator's). */
function turnLine(preset: string, n: number, refs: Ref[]): string {
  const base = oursRecord({ ts: 1_764_000_000 + n, sessionId: `s-${preset}` });
  const [template] = base.references as Record<string, unknown>[];
  const references = refs.map((r, index) => ({
    ...template, label: `p:${r.model}`, model: r.model, provider: 'p',
    output: r.fail ? '[failed: HTTP 429: slow down]' : `answer ${n} ${index} — 日本`,
    error: r.fail ? 'HTTP 429: slow down' : null,
    cost_usd: r.cost, cost_status: r.cost === null ? 'unknown' : 'actual',
    started_at: 1_764_000_000 + n - 5, ended_at: 1_764_000_000 + n - 5 + r.ms / 1000, duration_ms: r.ms,
    span_id: `${n}${index}`.padStart(16, 'c'),
  }));
  return JSON.stringify({ ...base, preset, references, trace_id: `${n}`.padStart(32, 'a'), span_id: `${n}`.padStart(16, 'b') });
}

const RAW = '0.123456789012345678901'; // 21 decimal places: rounded to 18 in Parquet

describe('the calls table', () => {
  let dir: TraceDir;
  let db: DuckDBInstance;
  let duck: DuckDBConnection;
  const parquet = () => path.join(dir.dir, 'calls.parquet');

  beforeAll(async () => {
    dir = makeTraceDir();
    const fast = [1, 2, 3, 4].map((n) => turnLine('fast', n, [
      { model: 'alpha', cost: '0.00088653', ms: 1000 + n * 100 },
      { model: 'beta', cost: n === 2 ? null : 0.1, fail: n % 2 === 0, ms: 3000 - n * 10 },
    ]));
    const deep = [5, 6, 7].map((n) => turnLine('deep', n, [
      { model: 'alpha', cost: n === 7 ? RAW : '0.2', ms: 500 * n },
      { model: 'gamma', cost: '1.000000000000000001', fail: n === 5, ms: 40 },
      { model: 'beta', cost: 0.3, ms: 10 * n },
    ]));
    dir.write('fast.jsonl', `${fast.join('\n')}\n`);
    dir.write('deep.jsonl', `${deep.join('\n')}\n`);
    for (const out of ['calls.parquet', 'calls.csv', 'calls.jsonl']) {
      const r = await cli(['export', '--format', 'calls', '--dir', dir.dir, '--out', path.join(dir.dir, out)]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(new RegExp(`^wrote 24 calls of 7 turns to .*${out.replace('.', '\\.')} \\((parquet|csv|jsonl)\\)\\n$`));
      expect(r.err).toBe(out.endsWith('parquet') ? '1 cost with more than 18 decimal places rounded to fit the DECIMAL(38, 18) column\n' : '');
    }
    db = await DuckDBInstance.create(':memory:');
    duck = await db.connect();
  });
  afterAll(() => {
    duck?.closeSync();
    dir?.cleanup();
  });

  const rows = async (sql: string) => (await duck.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];

  it('has the documented columns and types, exact costs, and is owner-only', async () => {
    expect(statSync(parquet()).mode & 0o777).toBe(0o600);
    const described = await rows(`DESCRIBE SELECT * FROM read_parquet('${parquet()}')`);
    const documented = [...DOC.matchAll(/^\| `([a-z_]+)`(?:, `([a-z_]+)`)? \| /gm)].flatMap((m) => [m[1], m[2]].filter(Boolean));
    expect(described.map((r) => r.column_name)).toEqual(documented);
    expect(Object.fromEntries(described.map((r) => [r.column_name, r.column_type]))).toMatchObject({
      cost_usd: 'DECIMAL(38,18)', started_at: 'TIMESTAMP', input_tokens: 'BIGINT', duration_ms: 'DOUBLE', model: 'VARCHAR',
    });
    const costs = await rows(`SELECT cost_usd::VARCHAR AS c FROM read_parquet('${parquet()}') WHERE model = 'alpha' ORDER BY turn_ts`);
    expect(costs.map((r) => r.c)).toEqual([...Array(4).fill('0.000886530000000000'), '0.200000000000000000', '0.200000000000000000', '0.123456789012345679']);
    const times = await rows(`SELECT started_at::VARCHAR AS s, ended_at::VARCHAR AS e FROM read_parquet('${parquet()}') WHERE call_span_id = '${'10'.padStart(16, 'c')}'`);
    expect(times).toEqual([{ s: '2025-11-24 15:59:56', e: '2025-11-24 15:59:57.1' }]);
    // CSV and JSON Lines hold the same rows, costs as the record's digits.
    const text = await rows(`SELECT (SELECT count(*) FROM read_csv('${path.join(dir.dir, 'calls.csv')}', all_varchar = true)) AS csv,
      (SELECT count(*) FROM read_json('${path.join(dir.dir, 'calls.jsonl')}')) AS jsonl`);
    expect(text).toEqual([{ csv: '24', jsonl: '24' }]);
    expect(readFileSync(path.join(dir.dir, 'calls.csv'), 'utf8')).toContain(`,${RAW},actual,`);
    expect(readFileSync(path.join(dir.dir, 'calls.jsonl'), 'utf8')).toContain(`"cost_usd":${RAW},`);
  });

  it('"cost and failure rate per reference model per preset" in DuckDB returns what stats prints', async () => {
    const result = await rows(docQuery('duckdb-cost-per-reference-model', parquet()));
    const fromStats: Record<string, unknown>[] = [];
    for (const preset of ['deep', 'fast']) {
      const stats = await cli(['stats', '--json', '--by', 'model', path.join(dir.dir, `${preset}.jsonl`)]);
      for (const line of stats.out.trim().split('\n')) {
        const row = JSON.parse(line) as { model?: string; calls: number; failed_calls: number; cost_usd: string; unknown_cost_calls: number; total?: boolean };
        if (row.total || row.model === 'gpt-4o') continue; // the aggregator's row
        fromStats.push({ preset, model: row.model, calls: row.calls, failed_calls: row.failed_calls, cost_usd: row.cost_usd, unknown_cost_calls: row.unknown_cost_calls });
      }
    }
    expect(fromStats.length).toBe(5);
    const normalized = result.map((r) => ({
      preset: r.preset, model: r.model, calls: Number(r.calls), failed_calls: Number(r.failed_calls),
      cost_usd: decimalText(r.total_cost_usd as string), unknown_cost_calls: Number(r.unknown_cost_calls),
    }));
    // stats sums the record's digits exactly; Parquet holds 18 places: the one 21-digit cost differs past them.
    const expected = fromStats.map((r) => ({ ...r, cost_usd: r.model === 'alpha' && r.preset === 'deep' ? '0.523456789012345679' : r.cost_usd }));
    expect(normalized).toEqual(expected);
    expect(result.map((r) => [r.preset, r.model, Number(r.failure_rate)])).toEqual([
      ['deep', 'alpha', 0], ['deep', 'beta', 0], ['deep', 'gamma', 0.3333], ['fast', 'alpha', 0], ['fast', 'beta', 0.5],
    ]);
  });

  it('"which advisor is worth its cost" in DuckDB: cost share, failure rate and latency quantiles per slot', async () => {
    const result = await rows(docQuery('duckdb-advisor-worth', parquet()));
    expect(result.map((r) => ({
      preset: r.preset, slot: Number(r.slot), label: r.label, calls: Number(r.calls), cost_share: Number(r.cost_share),
      failure_rate: Number(r.failure_rate), p50_ms: Number(r.p50_ms), p95_ms: Number(r.p95_ms),
    }))).toEqual([
      // deep: alpha 0.2+0.2+0.123456789012345679, gamma 3 × 1.000000000000000001, beta 0.9 → total 4.423456789012345682
      { preset: 'deep', slot: 0, label: 'p:alpha', calls: 3, cost_share: 0.1183, failure_rate: 0, p50_ms: 3000, p95_ms: 3450 },
      { preset: 'deep', slot: 1, label: 'p:gamma', calls: 3, cost_share: 0.6782, failure_rate: 0.3333, p50_ms: 40, p95_ms: 40 },
      { preset: 'deep', slot: 2, label: 'p:beta', calls: 3, cost_share: 0.2035, failure_rate: 0, p50_ms: 60, p95_ms: 69 },
      // fast: alpha 4 × 0.00088653, beta 0.1 × 3 (one unknown)
      { preset: 'fast', slot: 0, label: 'p:alpha', calls: 4, cost_share: 0.0117, failure_rate: 0, p50_ms: 1250, p95_ms: 1385 },
      { preset: 'fast', slot: 1, label: 'p:beta', calls: 4, cost_share: 0.9883, failure_rate: 0.5, p50_ms: 2975, p95_ms: 2988.5 },
    ]);
  });

  it('the ClickHouse form of the query, run by chDB over the same Parquet file, returns the same numbers', async () => {
    const paths = spawnSync('bash', [path.join(ROOT, 'scripts/chdb.sh'), 'paths'], { encoding: 'utf8' });
    const python = /^CHDB_PYTHON=(.*)$/m.exec(paths.stdout)?.[1] ?? '';
    if (!existsSync(python)) throw new Error(`no chDB venv (${python || paths.stderr}): run scripts/chdb.sh install (.ci/run does)`);
    const sql = docQuery('clickhouse-cost-per-reference-model', parquet());
    // TSV keeps the decimals' digits (JSON output would hand them to a float parser).
    const run = spawnSync(python, ['-c', 'import sys, chdb; print(chdb.query(sys.argv[1], "TSVWithNames"))', sql], { encoding: 'utf8', timeout: 120_000 });
    expect(run.stderr).toBe('');
    const [header, ...lines] = run.stdout.trim().split('\n').map((l) => l.split('\t'));
    const clickhouse = lines.map((cells) => Object.fromEntries((header as string[]).map((name, i) => [name, cells[i]])));
    const duckdb = await rows(docQuery('duckdb-cost-per-reference-model', parquet()));
    const same = (r: Record<string, unknown>) => ({
      preset: r.preset, model: r.model, calls: Number(r.calls), failed_calls: Number(r.failed_calls), failure_rate: Number(r.failure_rate),
      cost_usd: decimalText(String(r.total_cost_usd)), unknown_cost_calls: Number(r.unknown_cost_calls),
    });
    expect(clickhouse.map(same)).toEqual(duckdb.map(same));
    expect(clickhouse).toHaveLength(5);
  });

  it('one clear line for what cannot be written', async () => {
    const r = await cli(['export', '--format', 'calls', '--dir', dir.dir, '--out', path.join(dir.dir, 'calls.xlsx')]);
    expect(r).toMatchObject({ code: 2, err: expect.stringMatching(/^moa-otel export: cannot tell the table format from ".*calls\.xlsx": name it \.csv, \.jsonl or \.parquet, or give --table csv\|jsonl\|parquet\n$/) });
    const stdout = await cli(['export', '--format', 'calls', '--dir', dir.dir, '--out', '-', '--table', 'parquet']);
    expect(stdout).toMatchObject({ code: 2, err: 'moa-otel export: Parquet is written to a file: give --out FILE.parquet\n' });
    const csv = await cli(['export', '--format', 'calls', path.join(dir.dir, 'fast.jsonl'), '--out', '-']);
    expect(csv.out.split('\n')[0]).toMatch(/^trace_id,turn_span_id,call_span_id,/);
    expect(csv.out.trim().split('\n')).toHaveLength(1 + 12);
  });
});

describe('calls table: times', () => {
  /** The definition: the seconds' decimal as parseDecimal reads it, rounded half up to microseconds, in BigInt. */
  function exactMicros(seconds: number): bigint | null {
    const exact = parseDecimal(seconds);
    if (!exact) return null;
    const shift = exact.scale - 6;
    if (shift <= 0) return exact.units * 10n ** BigInt(-shift);
    const divisor = 10n ** BigInt(shift);
    return (exact.units + divisor / 2n) / divisor;
  }
  /** ISO text by BigInt division, as the column was always written. */
  function exactIso(value: bigint): string {
    const ms = value / 1000n;
    const extra = Number(((value % 1000n) + 1000n) % 1000n);
    const base = new Date(Number(value < 0n && extra !== 0 ? ms - 1n : ms)).toISOString();
    return `${base.slice(0, -1)}${String(extra).padStart(3, '0')}Z`;
  }

  it('microseconds and their ISO text are what the exact decimal gives, on the fast path and off it', () => {
    const values = [0, 1, 0.5, 1e-7, 1_764_000_000, 1_764_000_000.5, 1_764_000_000.123456, 1_764_000_000.1234567, 1_764_000_000.0000005,
      9_007_199_253.999999, 9_007_199_254.5, 99_999_999_999.25, 1e12 + 0.5, 123_456_789.000001, -1.5, -0.0000005, 2 ** 40 + 0.25];
    let x = 3;
    for (let i = 0; i < 20_000; i++) {
      x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
      values.push(1_700_000_000 + x / 7, 1_764_000_000 + (x % 1_000_000) / 1e6, (x % 100_000) / 1000, 1_764_000_000 + x / 3e9);
    }
    for (const seconds of values) {
      const want = exactMicros(seconds);
      expect(micros(seconds)?.micros ?? null, String(seconds)).toBe(want);
      if (want !== null) expect(isoMicros({ micros: want }), String(seconds)).toBe(exactIso(want));
    }
  });
});
