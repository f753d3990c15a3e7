/** Without the optional Parquet library, `export --format calls` to .parquet is one line naming the package; CSV still works. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { captureIo, makeTraceDir, oursLine, type TraceDir } from './fixtures.js';

vi.mock('hyparquet-writer', () => {
  throw Object.assign(new Error("Cannot find package 'hyparquet-writer'"), { code: 'ERR_MODULE_NOT_FOUND' });
});

describe('Parquet without hyparquet-writer', () => {
  let dir: TraceDir;
  beforeEach(() => { dir = makeTraceDir(); });
  afterEach(() => dir.cleanup());

  it('says which package to install, in one line, exit 2', async () => {
    const file = dir.write('s.jsonl', `${oursLine()}\n`);
    const cap = captureIo();
    const code = await runCli(['export', '--format', 'calls', file, '--out', path.join(dir.dir, 'c.parquet')], cap.io);
    expect([code, cap.err]).toEqual([2, 'moa-otel export: writing Parquet needs the optional package hyparquet-writer: npm install hyparquet-writer\n']);
    expect(existsSync(path.join(dir.dir, 'c.parquet'))).toBe(false);
    const csv = captureIo();
    expect(await runCli(['export', '--format', 'calls', file, '--out', path.join(dir.dir, 'c.csv')], csv.io)).toBe(0);
  });
});
