import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAppended } from '../../src/offline/follow.js';
import { LineSplitter } from '../../src/offline/line-splitter.js';
import { MAX_RECORD_DEPTH, readTurnRecords, type ReadRecord, type RecordProblem } from '../../src/offline/reader.js';
import { makeTraceDir, oursLine, oursRecord, PYTHON_LINES, type TraceDir } from './fixtures.js';

async function readAll(file: string, chunkSize?: number, maxLineBytes?: number) {
  const records: ReadRecord[] = [];
  const problems: RecordProblem[] = [];
  for await (const r of readTurnRecords(file, { onProblem: (p) => problems.push(p), chunkSize, maxLineBytes })) records.push(r);
  return { records, problems };
}

/** A record of ours whose first reference message holds arrays nested `depth` deep. */
function deepLine(depth: number): string {
  const record = oursRecord({ iteration: 1 });
  const references = record.references as Array<{ input_messages: unknown[] }>;
  references[0]!.input_messages = [{ role: 'user', content: `${'['.repeat(depth)}${']'.repeat(depth)}` }];
  const text = JSON.stringify(record);
  // The nesting as JSON structure, not inside a string.
  return text.replace(`"${'['.repeat(depth)}${']'.repeat(depth)}"`, `${'['.repeat(depth)}${']'.repeat(depth)}`);
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

  it('reports a torn record mid-file (closed by a later append) as torn with its line number, and reads on', async () => {
    const torn = oursLine({ iteration: 1 }).slice(0, 300);
    const file = dir.write('torn-mid.jsonl', `${oursLine()}\n${torn}\n${oursLine({ iteration: 2 })}\n`);
    const { records, problems } = await readAll(file);
    expect(records.map((r) => [r.line, r.record.iteration])).toEqual([[1, 0], [3, 2]]);
    expect(problems).toEqual([expect.objectContaining({ line: 2, kind: 'torn' })]);
    expect(problems[0]?.message).toMatch(/^torn line \(an incomplete write of 300 bytes/);
  });

  it('a bad line that was never a cut record stays a JSON error', async () => {
    const file = dir.write('bad-mid.jsonl', `${oursLine()}\n{"ts": 1, oops}\n`);
    const { problems } = await readAll(file);
    expect(problems).toEqual([expect.objectContaining({ line: 2, kind: 'json' })]);
  });

  it('recovers a record an older writer glued to a torn fragment, of either origin', async () => {
    const glued = `${oursLine({ iteration: 1 }).slice(0, 200)}${oursLine({ iteration: 2 })}`;
    const gluedPython = `${PYTHON_LINES[0].slice(0, 500)}${PYTHON_LINES[1]}`;
    const file = dir.write('glued.jsonl', `${oursLine()}\n${glued}\n${gluedPython}\n`);
    const { records, problems } = await readAll(file);
    expect(records.map((r) => [r.line, r.record.iteration ?? r.record.ts])).toEqual([[1, 0], [2, 2], [3, 1763900060.5]]);
    expect(problems.map((p) => [p.line, p.kind])).toEqual([[2, 'torn'], [3, 'torn']]);
    expect(problems[0]?.message).toMatch(/an incomplete record \(200 bytes\) with a complete record glued after it/);
  });

  // Limit injected; the real one (a 600 MB line) is in hostile-lines.test.ts, through validate and ls.
  it('reads on past a line longer than it may hold, without holding it (limit injected), reporting its line number', async () => {
    const long = `{"ts": 1, "pad": "${'x'.repeat(50_000)}"}`;
    const file = dir.write('long.jsonl', `${oursLine()}\n${long}\n${oursLine({ iteration: 1 })}\n${long}`);
    for (const chunkSize of [1000, 64 * 1024]) {
      const { records, problems } = await readAll(file, chunkSize, 10_000);
      expect(records.map((r) => r.line)).toEqual([1, 3]);
      expect(problems.map((p) => [p.line, p.kind])).toEqual([[2, 'too_long'], [4, 'too_long']]);
      expect(problems[0]?.message).toBe(`line of ${long.length} bytes is longer than a reader can hold; skipped`);
    }
  });

  it('reports JSON nested too deep for the commands as too_deep, and reads on', async () => {
    const file = dir.write('deep.jsonl', `${oursLine()}\n${deepLine(5_000)}\n${deepLine(MAX_RECORD_DEPTH - 10)}\n`);
    const { records, problems } = await readAll(file);
    expect(records.map((r) => r.line)).toEqual([1, 3]);
    expect(problems).toEqual([expect.objectContaining({ line: 2, kind: 'too_deep' })]);
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

  it('measures a line over its limit instead of holding it, across chunks and at the end of input', () => {
    const splitter = new LineSplitter(0, 5);
    const lines: Array<[string, number, number | undefined]> = [];
    const onLine = (l: { bytes: Buffer; endOffset: number; tooLongBytes?: number }) => lines.push([l.bytes.toString(), l.endOffset, l.tooLongBytes]);
    splitter.push(Buffer.from('ok\nabcd'), onLine);
    splitter.push(Buffer.from('efgh'), onLine);
    expect(splitter.pendingLength).toBe(0);
    splitter.push(Buffer.from('ij\nfine\n0123456789'), onLine);
    expect(lines).toEqual([['ok', 3, undefined], ['', 14, 10], ['fine', 19, undefined]]);
    expect(splitter.finish()).toEqual({ bytes: Buffer.alloc(0), endOffset: 29, tooLongBytes: 10 });
  });
});
