import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WriterStats } from '../../src/export/append-writer.js';
import { bundleFixture, type BundledFixture } from '../fixtures/bundle.js';

const WRITERS = 8;
const LINES = 60;
const LINE_BYTES = 150_000;

let appendMany: BundledFixture;

function runWriter(file: string, worker: number): Promise<WriterStats> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [appendMany.file, file, String(worker), String(LINES), String(LINE_BYTES)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 && stderr === '' ? resolve(JSON.parse(stdout) as WriterStats) : reject(new Error(`writer ${worker}: exit ${code}: ${stderr}`))));
  });
}

describe('8 processes appending to one session file at once', () => {
  beforeAll(async () => {
    appendMany = await bundleFixture(path.resolve(import.meta.dirname, '../fixtures/append-many.ts'));
  });
  afterAll(() => appendMany.cleanup());

  it('leave no blank line and count no torn tail: a line another writer is half-way through is not a torn tail', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-writers-'));
    try {
      const file = path.join(dir, 'traces', 'shared.jsonl');
      const stats = await Promise.all(Array.from({ length: WRITERS }, (_, w) => runWriter(file, w)));
      const text = readFileSync(file, 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      const lines = text.slice(0, -1).split('\n');
      expect(lines.filter((line) => line === '')).toHaveLength(0);
      expect(lines).toHaveLength(WRITERS * LINES);
      const seen = new Set(lines.map((line) => {
        const parsed = JSON.parse(line) as { worker: number; i: number };
        return `${parsed.worker}:${parsed.i}`;
      }));
      expect(seen.size).toBe(WRITERS * LINES);
      expect(stats.map((s) => s.tornTailsClosed)).toEqual(Array(WRITERS).fill(0));
      expect(stats.map((s) => s.linesWritten)).toEqual(Array(WRITERS).fill(LINES));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
