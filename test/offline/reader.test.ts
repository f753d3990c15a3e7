import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAppended } from '../../src/offline/follow.js';
import { LineSplitter } from '../../src/offline/line-splitter.js';
import { readTurnRecords, type ReadRecord, type RecordProblem } from '../../src/offline/reader.js';
import { makeTraceDir, oursLine, oursRecord, PYTHON_LINES, type TraceDir } from './fixtures.js';

async function readAll(file: string, chunkSize?: number) {
  const records: ReadRecord[] = [];
  const problems: RecordProblem[] = [];
  for await (const r of readTurnRecords(file, { onProblem: (p) => problems.push(p), chunkSize })) records.push(r);
  return { records, problems };
}

describe('trace file reader', () => {
  let dir: TraceDir;
  beforeEach(() => { dir = makeTraceDir(); });
  afterEach(() => dir.cleanup());

  it('reads records of both origins, including string costs and raw non-ASCII', async () => {
    const file = dir.write('mixed.jsonl', `${PYTHON_LINES[0]}\n${oursLine()}\n${PYTHON_LINES[1]}\n`);
    const { records, problems } = await readAll(file);
    expect(problems).toEqual([]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3]);
    expect(records[0]?.record.session_id).toBe('héllo-wörld');
    expect(records[0]?.record.references[0]?.cost_usd).toBe('0.00088653');
    expect(records[0]?.record.aggregator.output).toBe('Japan (日本).');
    expect(records[1]?.record.trace_id).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('splits lines correctly across tiny chunks, multi-byte characters and CRLF', async () => {
    const file = dir.write('crlf.jsonl', `\uFEFF${PYTHON_LINES[0]}\r\n${PYTHON_LINES[1]}\r\n`);
    for (const chunkSize of [1, 3, 7, 64]) {
      const { records, problems } = await readAll(file, chunkSize);
      expect(problems).toEqual([]);
      expect(records.map((r) => r.record.references[0]?.output)).toEqual(['日本 ist Japan — ein Land.', '中国 ist China.']);
    }
  });

  it('reports bad lines with file and line number and keeps reading', async () => {
    const bad = JSON.stringify({ ...oursRecord(), references: 'nope' });
    const file = dir.write('bad.jsonl', [oursLine(), 'not json', '', bad, PYTHON_LINES[0]].join('\n') + '\n');
    const { records, problems } = await readAll(file);
    expect(records.map((r) => r.line)).toEqual([1, 5]);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatchObject({ file, line: 2, kind: 'json' });
    expect(problems[1]).toMatchObject({ file, line: 4, kind: 'schema' });
    expect(problems[1]?.message).toContain('references');
  });

  it('tolerates a torn last line: earlier records are read, the tear is reported once', async () => {
    const torn = oursLine().slice(0, 120);
    const file = dir.write('torn.jsonl', `${oursLine()}\n${PYTHON_LINES[1]}\n${torn}`);
    const { records, problems } = await readAll(file);
    expect(records).toHaveLength(2);
    expect(problems).toEqual([expect.objectContaining({ line: 3, kind: 'torn' })]);
    expect(problems[0]?.message).toMatch(/torn last line/);
  });

  it('accepts a complete last record without a trailing newline', async () => {
    const file = dir.write('nonl.jsonl', `${oursLine()}\n${oursLine({ iteration: 1 })}`);
    const { records, problems } = await readAll(file);
    expect(problems).toEqual([]);
    expect(records.map((r) => r.record.iteration)).toEqual([0, 1]);
  });

  it('reads a single 50 MB record', async () => {
    const record = oursRecord();
    const big = 'x'.repeat(50 * 1024 * 1024);
    (record.aggregator as Record<string, unknown>).output = big;
    const file = path.join(dir.dir, 'big.jsonl');
    writeFileSync(file, `${JSON.stringify(record)}\n${oursLine()}\n`);
    const { records, problems } = await readAll(file);
    expect(problems).toEqual([]);
    expect(records).toHaveLength(2);
    expect(records[0]?.record.aggregator.output?.length).toBe(big.length);
  });

  it('follows appends: bad complete lines are consumed and reported once, an unfinished line waits', async () => {
    const file = dir.write('follow.jsonl', `${oursLine()}\nnot json\n`);
    const seen: number[] = [];
    const problems: RecordProblem[] = [];
    const onRecord = (r: ReadRecord) => seen.push(r.line);
    let position = await readAppended(file, { offset: 0, lines: 0 }, onRecord, (p) => problems.push(p));
    const next = oursLine({ iteration: 1 });
    appendFileSync(file, next.slice(0, 30));
    position = await readAppended(file, position, onRecord, (p) => problems.push(p));
    appendFileSync(file, `${next.slice(30)}\n`);
    position = await readAppended(file, position, onRecord, (p) => problems.push(p));
    expect(seen).toEqual([1, 3]);
    expect(problems.map((p) => [p.line, p.kind])).toEqual([[2, 'json']]);
    expect(position).toEqual({ offset: Buffer.byteLength(`${oursLine()}\nnot json\n${next}\n`), lines: 3 });
  });

  it('fails with one readable line for a missing file', async () => {
    await expect(readAll(path.join(dir.dir, 'missing.jsonl'))).rejects.toThrow(/^cannot read .*missing\.jsonl: no such file or directory$/);
  });
});

describe('line splitter', () => {
  it('keeps only the unfinished tail between chunks', () => {
    const splitter = new LineSplitter();
    const lines: string[] = [];
    splitter.push(Buffer.from('ab\ncd'), (l) => lines.push(l.bytes.toString()));
    expect(splitter.pendingLength).toBe(2);
    splitter.push(Buffer.from('ef\n'), (l) => lines.push(`${l.bytes.toString()}@${l.endOffset}`));
    expect(lines).toEqual(['ab', 'cdef@8']);
    expect(splitter.pendingLength).toBe(0);
    expect(splitter.finish()).toBeNull();
  });
});
