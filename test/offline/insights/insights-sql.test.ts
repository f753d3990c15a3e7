/**
 * The DuckDB query of docs/insights.md, run as written over the calls table
 * of the planted corpus, gives the figures insights gives (the cost side).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { runCli } from '../../../src/cli/main.js';
import { analyzeInsights } from '../../../src/offline/insights/run-insights.js';
import { captureIo } from '../fixtures.js';
import { generateCorpus } from './corpus.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'moa-insights-sql-'));
  generateCorpus(path.join(dir, 'traces'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the documented DuckDB query', () => {
  it('gives the same calls, failure rates, exact costs, shares and straggler figures as insights', async () => {
    const parquet = path.join(dir, 'calls.parquet');
    const cap = captureIo({});
    expect(await runCli(['export', '--format', 'calls', path.join(dir, 'traces'), '--out', parquet, '--table', 'parquet'], cap.io)).toBe(0);
    const docs = readFileSync(path.join(ROOT, 'docs/insights.md'), 'utf8');
    const query = /## Past one machine[\s\S]*?```sql\n([\s\S]*?)```/.exec(docs)?.[1];
    expect(query).toBeDefined();
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    const rows = (await con.runAndReadAll((query as string).replace("'calls.parquet'", `'${parquet}'`))).getRowObjectsJson();
    con.closeSync();
    const doc = await analyzeInsights([path.join(dir, 'traces')]);
    expect(rows).toHaveLength(doc.references.length);
    for (const row of rows) {
      const ref = doc.references.find((r) => r.key === `${String(row.preset)}/${String(row.label)}`);
      expect(ref, String(row.label)).toBeDefined();
      expect(Number(row.calls)).toBe(ref?.calls);
      expect(Number(row.failure_rate)).toBeCloseTo(ref?.failure_rate as number, 6);
      expect(String(row.cost_usd).replace(/\.?0+$/, '')).toBe(ref?.cost_usd);
      expect(Number(row.cost_share)).toBeCloseTo(ref?.cost_share as number, 9);
      expect(Number(row.straggler_share)).toBeCloseTo(ref?.straggler_share as number, 6);
      expect(Math.abs(Number(row.wait_added_ms ?? 0) - (ref?.wait_added_ms.total ?? 0))).toBeLessThanOrEqual(ref?.straggler_turns ?? 0);
    }
  }, 60_000);
});
