/** `ls` says when a session's total misses the spend of unrecorded tool-loop iterations. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/main.js';
import { captureIo } from '../fixtures.js';
import { generateCorpus } from './corpus.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'moa-ls-unrecorded-'));
  generateCorpus(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(argv: string[]) {
  const cap = captureIo({});
  const code = await runCli(argv, cap.io);
  return { code, out: cap.out, err: cap.err };
}

describe('ls and unrecorded iterations', () => {
  it('marks the incomplete total and says why, in text and JSON', async () => {
    const text = await cli(['ls', '--dir', dir]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^coding-2\s+20\s+80\s+\d+\s+[\d,]+\s+\$[\d.]+ \(incomplete\)\s/m);
    expect(text.out).toMatch(/^research-1\s+20\s+100\s+0\s+[\d,]+\s+\$0\.5\s/m);
    expect(text.out).toContain('! coding-2: ≥ 4 iterations not recorded; their spend is missing — set trace_cache_hits\n');
    expect(text.out.match(/^! /gm)).toHaveLength(1);
    const json = (await cli(['ls', '--dir', dir, '--json'])).out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const byId = Object.fromEntries(json.map((r) => [r.session, r]));
    expect(byId['coding-2']).toMatchObject({ unrecorded_iterations: 4, cost_note: '≥ 4 iterations not recorded; their spend is missing — set trace_cache_hits' });
    expect(byId['research-1']).toMatchObject({ unrecorded_iterations: 0, cost_note: null });
  });
});
