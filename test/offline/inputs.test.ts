/**
 * Every input the offline commands take: compressed files (found by their
 * bytes, not their names), stdin, directories walked, mixed in one call, and
 * one clear line for a file in no trace format.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { expandInputPaths, readInput, readInputs, type InputRecord } from '../../src/offline/inputs.js';
import type { RecordProblem } from '../../src/offline/reader.js';
import { captureIo, makeTraceDir, oursLine, PYTHON_LINES, type TraceDir } from './fixtures.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const JSONL = `${PYTHON_LINES.join('\n')}\n${oursLine()}\n`;

async function cli(argv: string[], stdin?: Buffer | string) {
  const cap = captureIo();
  const io = stdin === undefined ? cap.io : { ...cap.io, stdin: Readable.from([Buffer.from(stdin)]) };
  const code = await runCli(argv, io);
  return { code, out: cap.out, err: cap.err };
}

async function readAll(file: string, found = false) {
  const problems: RecordProblem[] = [];
  const records: InputRecord[] = [];
  for await (const r of readInput({ file, found }, { onProblem: (p) => problems.push(p) })) records.push(r);
  return { records, problems };
}

describe('trace inputs', () => {
  let dir: TraceDir;
  beforeEach(() => {
    dir = makeTraceDir();
  });
  afterEach(() => dir.cleanup());

  it('reads a gzip file by its bytes whatever its name, record for record as the plain one', async () => {
    const plain = dir.write('plain.jsonl', JSONL);
    const gz = path.join(dir.dir, 'rotated.log');
    writeFileSync(gz, gzipSync(JSONL));
    const a = await readAll(plain);
    const b = await readAll(gz);
    expect(b.problems).toEqual([]);
    expect(b.records.map((r) => r.record)).toEqual(a.records.map((r) => r.record));
    expect(b.records.map((r) => r.line)).toEqual([1, 2, 3]);
    expect(b.records[0]?.format).toBe('jsonl');
  });

  it('reads gzip made of several members (logrotate appends) and reports a cut-short stream after reading what came before', async () => {
    const file = path.join(dir.dir, 'multi.jsonl.gz');
    writeFileSync(file, Buffer.concat([gzipSync(`${PYTHON_LINES[0]}\n`), gzipSync(`${PYTHON_LINES[1]}\n`)]));
    expect((await readAll(file)).records).toHaveLength(2);
    const big = Buffer.from(Array.from({ length: 400 }, (_, i) => oursLine({ iteration: i })).join('\n') + '\n');
    const whole = gzipSync(big);
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const cut = await readAll(file);
    expect(cut.records.length).toBeGreaterThan(0);
    expect(cut.records.length).toBeLessThan(400);
    expect(cut.problems).toContainEqual(expect.objectContaining({ kind: 'torn', line: 0, message: expect.stringMatching(/gzip data ends early/) }));
  });

  it('detects the format by content: records in a .txt file are read, a CSV or Parquet file is one line naming what it is', async () => {
    const txt = dir.write('notes.txt', JSONL);
    expect((await readAll(txt)).records).toHaveLength(3);
    const csv = dir.write('calls.csv', 'model,cost\ngpt-4o,0.1\n');
    await expect(readAll(csv)).rejects.toThrow(/calls\.csv: not a trace file: text lines, not JSON \(CSV\?\); expected JSONL turn records or OTLP JSON/);
    const parquet = path.join(dir.dir, 'calls.parquet');
    writeFileSync(parquet, Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(64, 1)]));
    const r = await cli(['stats', parquet]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^moa-otel stats: .*calls\.parquet: not a trace file: Parquet data; expected JSONL turn records or OTLP JSON trace lines, optionally gzip- or zstd-compressed\n$/);
    const metrics = dir.write('metrics.json', '{"resourceMetrics":[]}\n');
    await expect(readAll(metrics)).rejects.toThrow(/OTLP JSON metrics \(only traces are read\)/);
  });

  it('a .jsonl file whose first lines are bad is still read as records (the name breaks the tie), each bad line reported', async () => {
    const file = dir.write('bad-start.jsonl', `not json\n[1,2]\n${oursLine()}\n`);
    const { records, problems } = await readAll(file);
    expect(records.map((r) => r.line)).toEqual([3]);
    expect(problems.map((p) => [p.line, p.kind])).toEqual([[1, 'json'], [2, 'schema']]);
  });

  it('walks directories: trace files of every kind, a non-trace file found inside reported and skipped', async () => {
    dir.write('a/one.jsonl', `${PYTHON_LINES[0]}\n`);
    writeFileSync(path.join(dir.dir, 'a/b/../two.jsonl.gz'.replace('/b/..', '')), gzipSync(`${PYTHON_LINES[1]}\n`));
    dir.write('a/b/c/three.json', `${oursLine()}\n`);
    dir.write('a/b/other.json', '{"name":"not a trace"}\n');
    dir.write('a/b/readme.md', '# ignored by name\n');
    dir.write('a/.hidden.jsonl', `${oursLine()}\n`);
    const targets = await expandInputPaths([path.join(dir.dir, 'a')]);
    expect(targets.map((t) => path.relative(dir.dir, t.file))).toEqual(['a/b/c/three.json', 'a/b/other.json', 'a/one.jsonl', 'a/two.jsonl.gz']);
    const problems: RecordProblem[] = [];
    const records = [];
    for await (const r of readInputs(targets, { onProblem: (p) => problems.push(p) })) records.push(r);
    expect(records).toHaveLength(3);
    expect(problems).toEqual([expect.objectContaining({ kind: 'format', line: 0, file: path.join(dir.dir, 'a/b/other.json'), message: expect.stringMatching(/JSON objects of another kind \(keys "name"…\)/) })]);
    const validate = await cli(['validate', path.join(dir.dir, 'a')]);
    expect(validate.code).toBe(1);
    expect(validate.out).toMatch(/other\.json: error: not a trace file/);
  });

  it('reads stdin (-), plain or gzip, mixed with files and directories in one command', async () => {
    const file = dir.write('sess.jsonl', `${PYTHON_LINES[0]}\n`);
    dir.write('d/more.jsonl', `${PYTHON_LINES[1]}\n`);
    const stats = await cli(['stats', '--json', '--by', 'session', '-', file, path.join(dir.dir, 'd')], gzipSync(`${oursLine()}\n`));
    expect(stats.err).toBe('');
    const rows = stats.out.trim().split('\n').map((l) => JSON.parse(l) as { turns: number; total?: boolean; session?: string });
    expect(rows.at(-1)).toMatchObject({ total: true, turns: 3 });
    expect(rows.find((r) => r.session === 'sess-ours')).toMatchObject({ turns: 1 });
    const show = await cli(['show', '-', '--json'], JSONL);
    expect(show.out.trim().split('\n')).toHaveLength(3);
    const twice = await cli(['stats', '-', '-'], '');
    expect(twice).toMatchObject({ code: 2, err: 'moa-otel stats: stdin (-) can be read only once\n' });
    const tail = await cli(['tail', '-', '-n', '1', '--json'], JSONL);
    expect(JSON.parse(tail.out) as unknown).toEqual(JSON.parse(oursLine()));
    const validate = await cli(['validate', '-'], `${oursLine()}\nnope\n`);
    expect(validate.out).toMatch(/^<stdin>:2: error: invalid JSON/m);
  });

  it('report reads stdin (read twice through an owner-only spool) and names it', async () => {
    const out = path.join(dir.dir, 'r.html');
    const r = await cli(['report', '-', '-o', out], gzipSync(JSONL));
    expect(r).toMatchObject({ code: 0, err: '' });
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('&lt;stdin&gt;');
  });

  it('ls lists compressed and rotated session files of the trace directory with the session as name, and takes inputs', async () => {
    dir.write('live.jsonl', `${oursLine()}\n`);
    writeFileSync(path.join(dir.dir, 'old.jsonl.1.gz'), gzipSync(`${PYTHON_LINES[0]}\n${PYTHON_LINES[1]}\n`));
    const ls = await cli(['ls', '--dir', dir.dir, '--json']);
    const rows = ls.out.trim().split('\n').map((l) => JSON.parse(l) as { session: string; turns: number; session_ids: string[] });
    expect(rows.map((r) => [r.session, r.turns])).toEqual([['live', 1], ['old', 2]]);
    const one = await cli(['ls', '--json', '-'], JSONL);
    expect(JSON.parse(one.out) as unknown).toMatchObject({ file: '<stdin>', turns: 3 });
  });

  it('zstd: one clear line on a Node without it; read on a Node with it', async () => {
    const file = path.join(dir.dir, 'sess.jsonl.zst');
    const made = spawnSync('zstd', ['-q', '-o', file], { input: JSONL });
    expect(made.status).toBe(0);
    const hasZstd = typeof (await import('node:zlib') as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';
    if (!hasZstd) {
      const r = await cli(['show', file]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^moa-otel show: cannot read .*sess\.jsonl\.zst: it is zstd-compressed and this Node \(v\d+[^)]*\) has no zstd; run moa-otel on Node 22\.15 or later, or decompress it first \(zstd -dc FILE \| moa-otel <command> -\)\n$/);
    }
    const node24 = spawnSync('bash', [path.join(ROOT, 'scripts/node-version.sh'), '24'], { encoding: 'utf8', timeout: 300_000 });
    expect(node24.status, node24.stderr).toBe(0);
    const run = spawnSync(node24.stdout.trim(), ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'stats', '--json', file], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, MOA_HOME: '/nonexistent-moa-home' }, timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as unknown).toMatchObject({ total: true, turns: 3 });
  });
});
