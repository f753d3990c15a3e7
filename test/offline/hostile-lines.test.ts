import { appendFileSync, readFileSync, statSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { terminalSafe, terminalSafeLines } from '../../src/offline/format.js';
import { MAX_RECORD_DEPTH } from '../../src/offline/reader.js';
import { captureIo, makeTraceDir, oursLine, oursRecord, type TraceDir } from './fixtures.js';

async function cli(argv: string[]) {
  const cap = captureIo();
  const code = await runCli(argv, cap.io);
  return { code, out: cap.out, err: cap.err };
}

const BIDI = ['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];
/** A model name that would forge a table row and reverse the rest of its line. */
const FORGED_MODEL = 'gpt-4o\nforged-model        9        9        0   999,999   $0.00\u202e';

/** A record of ours whose first reference used `model`. */
function lineWithModel(model: string, sessionId = 'sess-ours'): string {
  const record = oursRecord({ sessionId });
  const reference = (record.references as Array<Record<string, unknown>>)[0]!;
  reference.model = model;
  reference.label = `openai:${model}`;
  return JSON.stringify(record);
}

/** A record whose first reference message nests arrays `depth` deep (as JSON structure). */
function deepLine(depth: number, iteration: number): string {
  const record = oursRecord({ iteration });
  (record.references as Array<{ input_messages: unknown[] }>)[0]!.input_messages = [{ role: 'user', content: 'DEEP' }];
  return JSON.stringify(record).replace('"DEEP"', `${'['.repeat(depth)}"bottom"${']'.repeat(depth)}`);
}

describe('terminalSafe', () => {
  it('shows newlines, tabs, C0/C1 controls and bidirectional controls as escapes in a cell', () => {
    expect(terminalSafe('a\nb\tc\r\u001b[31m\u0085')).toBe('a\\u000ab\\u0009c\\u000d\\u001b[31m\\u0085');
    for (const control of BIDI) expect(terminalSafe(`x${control}y`)).toBe(`x\\u${control.charCodeAt(0).toString(16).padStart(4, '0')}y`);
    expect(terminalSafe('日本 — ok 😀')).toBe('日本 — ok 😀');
  });

  it('keeps newlines and tabs in multi-line text, and escapes the rest', () => {
    expect(terminalSafeLines('one\n\ttwo\u202e\u001b')).toBe('one\n\ttwo\\u202e\\u001b');
  });
});

describe('offline commands on hostile lines', () => {
  let dir: TraceDir;
  beforeEach(() => { dir = makeTraceDir(); });
  afterEach(() => dir.cleanup());

  it('a newline or bidi control in a model name forges no row in stats and reorders nothing', async () => {
    dir.write('sess-ours.jsonl', `${lineWithModel(FORGED_MODEL)}\n`);
    const r = await cli(['stats', '--dir', dir.dir]);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    // header, gpt-4o (the aggregator), the hostile model, tiny, TOTAL
    expect(lines).toHaveLength(5);
    expect(lines.some((l) => l.startsWith('forged-model'))).toBe(false);
    expect(r.out).toContain('gpt-4o\\u000aforged-model');
    expect(r.out).toContain('\\u202e');
    for (const control of BIDI) expect(r.out).not.toContain(control);
  });

  it('… nor in ls (session ids) or show (call labels)', async () => {
    dir.write('hostile.jsonl', `${lineWithModel(FORGED_MODEL, 'sess\nforged-session  1  1  0\u2066')}\n`);
    const ls = await cli(['ls', '--dir', dir.dir]);
    expect(ls.out.trimEnd().split('\n')).toHaveLength(2);
    expect(ls.out).toContain('sess\\u000aforged-session');
    const show = await cli(['show', path.join(dir.dir, 'hostile.jsonl')]);
    expect(show.code).toBe(0);
    const callLine = show.out.split('\n').find((l) => l.includes('reference 0'));
    expect(callLine).toContain('openai:gpt-4o\\u000aforged-model');
    expect(show.out.split('\n').some((l) => l.trimStart().startsWith('forged-model'))).toBe(false);
    for (const control of BIDI) expect(show.out + ls.out).not.toContain(control);
  });

  it('show --full still prints multi-line messages and outputs on several lines', async () => {
    const record = oursRecord();
    (record.aggregator as Record<string, unknown>).output = 'line one\nline two\u202e';
    const file = dir.write('multi.jsonl', `${JSON.stringify(record)}\n`);
    const r = await cli(['show', file, '--full']);
    expect(r.out).toContain('  output:\n     line one\n     line two\\u202e\n');
  });

  it('JSON too deep to walk: show, show --full, report and validate report the line and go on', async () => {
    const file = dir.write('deep.jsonl', [oursLine(), deepLine(5_000, 1), deepLine(MAX_RECORD_DEPTH - 10, 2)].join('\n') + '\n');
    for (const argv of [['show', file], ['show', file, '--full'], ['report', file, '-o', path.join(dir.dir, 'deep.html')]]) {
      const r = await cli(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.err).toMatch(/deep\.jsonl:2: error: JSON nested more than 1000 levels deep/);
    }
    const show = await cli(['show', file, '--full']);
    expect(show.out).toContain('── turn 2 (line 3) ──');
    expect(readFileSync(path.join(dir.dir, 'deep.html'), 'utf8')).toContain('<html');
    const validate = await cli(['validate', file]);
    expect(validate.code).toBe(1);
    expect(validate.out).toMatch(/deep\.jsonl: 2 records, 1 problem\n$/);
  });

  it('a 600 MB line (longer than a string can hold) is reported by validate and skipped by ls', async () => {
    const file = dir.write('huge-line.jsonl', `${oursLine()}\n`);
    truncateSync(file, statSync(file).size + 600_000_000); // sparse: no disk, and the reader holds none of it
    appendFileSync(file, `\n${oursLine({ iteration: 1 })}\n`);
    const validate = await cli(['validate', file]);
    expect(validate.code).toBe(1);
    expect(validate.out).toContain('huge-line.jsonl:2: error: line of 600000000 bytes is longer than a reader can hold; skipped');
    expect(validate.out).toMatch(/huge-line\.jsonl: 2 records, 1 problem\n$/);
    const ls = await cli(['ls', '--dir', dir.dir, '--json']);
    expect(ls.code).toBe(0);
    expect(JSON.parse(ls.out.trim()) as Record<string, unknown>).toMatchObject({ session: 'huge-line', turns: 2 });
  });
});
