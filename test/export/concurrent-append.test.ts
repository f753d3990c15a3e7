import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const WORKERS = 4;
const TURNS = 25;

function runWorker(traceDir: string, worker: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/append-worker.ts', traceDir, String(worker), String(TURNS)], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

describe('concurrent appends from several processes', () => {
  it('never interleaves lines of about 200 KB', async () => {
    const traceDir = mkdtempSync(path.join(tmpdir(), 'moa-concurrent-'));
    const codes = await Promise.all(Array.from({ length: WORKERS }, (_, w) => runWorker(traceDir, w)));
    expect(codes).toEqual(Array(WORKERS).fill(0));
    const text = readFileSync(path.join(traceDir, 'shared.jsonl'), 'utf8');
    const lines = text.split('\n').filter(Boolean);
    expect(lines).toHaveLength(WORKERS * TURNS);
    const seen = new Set<string>();
    for (const line of lines) {
      expect(line.length).toBeGreaterThan(200_000);
      const rec = JSON.parse(line) as { references: Array<{ output: string; input_messages: Array<{ content: string }> }> };
      const ref = rec.references[0]!;
      // The 200 KB payload belongs to the same worker as the output: no splicing across writers.
      expect(ref.input_messages[0]!.content.startsWith(`${ref.output.split('-')[0]}:`)).toBe(true);
      seen.add(ref.output);
    }
    expect(seen.size).toBe(WORKERS * TURNS);
  });
});
