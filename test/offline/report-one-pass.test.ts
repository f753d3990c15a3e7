/**
 * `report` reads its input once (totals, insights and turns from one pass),
 * keeps the rendered turns in a spool that spills to an owner-only file
 * past its memory share, and writes the same page either way.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/offline/report/write-report.js';
import { TurnSpool } from '../../src/offline/report/turn-spool.js';
import { clip, formatEpochSeconds, formatInt } from '../../src/offline/format.js';
import { escapeHtml } from '../../src/offline/report/escape.js';
import { oursLine } from './fixtures.js';

let dir: string;
let file: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'moa-report-once-'));
  file = path.join(dir, 'session.jsonl');
  writeFileSync(file, `${Array.from({ length: 40 }, (_, i) => oursLine({ ts: 1_764_000_000 + i, iteration: 1 + (i % 2) })).join('\n')}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function pageOf(target: string, options: Parameters<typeof writeReport>[5] = {}): Promise<{ html: string; progress: number[] }> {
  let html = '';
  const progress: number[] = [];
  await writeReport({ file: target }, { write: async (chunk) => { html += chunk; } }, undefined, undefined, (bytes) => progress.push(bytes), options);
  return { html, progress };
}

describe('report: one pass', () => {
  it('reads the file once: progress ends at its size, never beyond', async () => {
    const { html, progress } = await pageOf(file);
    expect(Math.max(...progress)).toBe(statSync(file).size);
    expect(html.match(/<section class="turn"/g)).toHaveLength(40);
    expect(html).toContain('<section class="insights" id="insights"');
    expect(html.indexOf('id="session-totals"')).toBeLessThan(html.indexOf('id="insights"'));
    expect(html.indexOf('id="insights"')).toBeLessThan(html.indexOf('id="turn-1"'));
  });

  it('reads - from a stream that can be read only once, with the same page as the file', async () => {
    const fromFile = await pageOf(file);
    const fromStdin = await pageOf('-', { stdin: Readable.from([readFileSync(file)]) });
    // Only the source's name differs.
    expect(fromStdin.html.replaceAll('&lt;stdin&gt;', 'SOURCE').replaceAll('stdin', 'session'))
      .toBe(fromFile.html.replaceAll(file, 'SOURCE'));
  });
});

describe('TurnSpool', () => {
  const chunks = Array.from({ length: 6000 }, (_, i) => `<p>${i} ${'日本語 é 😀 '.repeat(i % 50)}</p>\n`);
  const expected = chunks.join('');

  async function through(memoryBytes: number, asBytes: boolean): Promise<{ text: string; spilled: boolean }> {
    const spool = new TurnSpool(memoryBytes);
    const before = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('moa-otel-report-')));
    for (const chunk of chunks) await spool.write(chunk);
    const created = readdirSync(tmpdir()).filter((n) => n.startsWith('moa-otel-report-') && !before.has(n));
    for (const name of created) {
      const spilled = path.join(tmpdir(), name, 'turns.html');
      expect(statSync(spilled).mode & 0o777).toBe(0o600);
      expect(statSync(path.dirname(spilled)).mode & 0o777).toBe(0o700);
    }
    // Text and bytes in the order they are handed out: a page mixes both (encoded batches, then the text after them).
    const parts: Buffer[] = [];
    await spool.replay(async (c) => { parts.push(Buffer.from(c, 'utf8')); }, asBytes ? async (b) => { parts.push(Buffer.from(b)); } : undefined);
    await spool.dispose();
    for (const name of created) expect(readdirSync(tmpdir())).not.toContain(name);
    return { text: Buffer.concat(parts).toString('utf8'), spilled: created.length > 0 };
  }

  it('gives back what it was given, in order, from memory and from disk, as text (characters split across reads) or bytes', async () => {
    expect(Buffer.byteLength(expected)).toBeGreaterThan(2 * 1024 * 1024);
    expect(await through(1 << 30, false)).toEqual({ text: expected, spilled: false });
    expect(await through(1 << 30, true)).toEqual({ text: expected, spilled: false });
    expect(await through(1000, false)).toEqual({ text: expected, spilled: true });
    expect(await through(1000, true)).toEqual({ text: expected, spilled: true });
  });
});

describe('TurnSpool memory', () => {
  it('counts what it holds in UTF-8 bytes: three-byte text past the limit spills though its characters are under it', async () => {
    const spool = new TurnSpool(3000);
    const before = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('moa-otel-report-')));
    // 1,200 characters, 3,600 bytes: over a 3,000-byte limit (once its batch is kept), under it in characters.
    for (let i = 0; i < 2; i++) await spool.write('日'.repeat(600));
    const bytes: Buffer[] = [];
    await spool.replay(async () => undefined, async (b) => { bytes.push(Buffer.from(b)); });
    const created = readdirSync(tmpdir()).filter((n) => n.startsWith('moa-otel-report-') && !before.has(n));
    await spool.dispose();
    expect(created).toHaveLength(1);
    expect(Buffer.concat(bytes).toString('utf8')).toBe('日'.repeat(1200));
  });

  it('encodes hostile text as the whole page would be: lone surrogates, U+2028, NUL, markup', async () => {
    const chunks = Array.from({ length: 3000 }, (_, i) => `<p>${i} \ud800 x \udfff </textarea><script>"'&\u2028\u0000 ${'😀'.repeat(i % 7)}</p>\n`);
    for (const limit of [1 << 30, 5000]) {
      const spool = new TurnSpool(limit);
      for (const chunk of chunks) await spool.write(chunk);
      const bytes: Buffer[] = [];
      await spool.replay(async (c) => { bytes.push(Buffer.from(c, 'utf8')); }, async (b) => { bytes.push(Buffer.from(b)); });
      await spool.dispose();
      expect(Buffer.concat(bytes).equals(Buffer.from(chunks.join(''), 'utf8'))).toBe(true);
    }
  });
});

describe('formatInt', () => {
  it('groups digits as en-US toLocaleString does', () => {
    const values = [0, -0, 0.4, -0.4, 1, 999.5, 1000, -1000, 1234567, -987654321, 2 ** 53 - 1, 2 ** 53 + 2, 1e21, NaN, Infinity, -Infinity];
    for (let i = 0; i < 2000; i++) values.push(Math.floor(((i * 2654435761) % 1e9) * 10 ** (i % 9)) * (i % 2 ? -1 : 1));
    for (const n of values) expect(formatInt(n)).toBe(Math.round(n).toLocaleString('en-US'));
  });
});

describe('clip and formatEpochSeconds (fast paths)', () => {
  it('clip cuts by characters, never inside a surrogate pair, as cutting the list of code points does', () => {
    const byCodePoints = (text: string, max: number) => {
      const chars = Array.from(text);
      return chars.length > max ? `${chars.slice(0, Math.max(0, max - 1)).join('')}…` : text;
    };
    const alphabet = ['a', '日', '😀', '\ud800', '\udc00', 'é'];
    let x = 7;
    for (let i = 0; i < 2000; i++) {
      let text = '';
      for (let k = 0; k < i % 12; k++) {
        x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
        text += alphabet[x % alphabet.length];
      }
      for (const max of [0, 1, 3, 5, 8]) expect(clip(text, max)).toBe(byCodePoints(text, max));
    }
  });

  it('formatEpochSeconds drops the milliseconds for every year toISOString prints', () => {
    for (const s of [0, 1.5, 1_764_000_000.123, -62_198_755_200, 8.64e12, -8.64e12, 253_402_300_799.999, 253_402_300_800]) {
      expect(formatEpochSeconds(s)).toBe(new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    }
    expect(formatEpochSeconds(8.64e12 + 1)).toBe('–');
    expect(formatEpochSeconds(Number.NaN)).toBe('–');
  });
});

describe('escapeHtml', () => {
  it('escapes as the two-pass definition does (specials, then controls as \\uXXXX), in one pass', () => {
    const twoPass = (text: string) => text
      .replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string)
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const alphabet = ['a', ' ', '&', '<', '>', '"', "'", '\u0000', '\u0007', '\t', '\n', '\r', '\u000b', '\u001f', '\u007f', '\u0080', '日', '😀', '\\', 'u'];
    let x = 11;
    for (let i = 0; i < 3000; i++) {
      let text = '';
      for (let k = 0; k < i % 40; k++) {
        x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
        text += alphabet[x % alphabet.length];
      }
      expect(escapeHtml(text)).toBe(twoPass(text));
    }
  });
});
