/**
 * `tail -f` when the file is replaced between two polls: rotated (renamed
 * away, a new file at the name) or truncated and regrown, each time with the
 * new content already longer than the old position. Every record is printed
 * once, in order: none lost, none read from the middle of a line.
 */
import { appendFileSync, mkdtempSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { followFile } from '../../src/offline/follow.js';
import type { RecordProblem } from '../../src/offline/reader.js';
import { waitUntil } from '../helpers/wait-until.js';
import { oursLine } from './fixtures.js';

const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${oursLine({ ts: 1_764_000_000 + from + i })}\n`).join('');

let controller: AbortController | undefined;
afterEach(() => controller?.abort());

function follow(file: string) {
  controller = new AbortController();
  const seen: number[] = [];
  const problems: RecordProblem[] = [];
  const done = followFile(file, {
    signal: controller.signal, from: { offset: 0, lines: 0 }, pollMs: 20,
    onRecord: ({ record }) => seen.push(Math.round(record.ts) - 1_764_000_000), onProblem: (p) => problems.push(p),
  });
  return { seen, problems, done };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('tail -f under rotation', () => {
  it('a fast rotation: the rest of the old file, then the new file from its start', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-follow-'));
    const file = path.join(dir, 's.jsonl');
    writeFileSync(file, lines(0, 30));
    const f = follow(file);
    await waitUntil(() => f.seen.length === 30, 'the first 30 records');
    // All in one synchronous run, so no poll falls in between: appended, renamed away, replaced by a longer file.
    appendFileSync(file, lines(30, 35));
    renameSync(file, `${file}.1`);
    writeFileSync(file, lines(35, 65));
    await waitUntil(() => f.seen.length >= 65, 'all 65 records');
    await new Promise((r) => setTimeout(r, 100)); // a few more polls: nothing is printed twice
    expect(f.seen).toEqual(range(65));
    expect(f.problems).toEqual([]);
    controller?.abort();
    await f.done;
  });

  it('a truncate-and-regrow past the old position: read again from the start', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-follow-'));
    const file = path.join(dir, 's.jsonl');
    writeFileSync(file, lines(0, 30));
    const f = follow(file);
    await waitUntil(() => f.seen.length === 30, 'the first 30 records');
    truncateSync(file, 0);
    appendFileSync(file, lines(30, 90));
    await waitUntil(() => f.seen.length >= 90, 'all 90 records');
    await new Promise((r) => setTimeout(r, 100));
    expect(f.seen).toEqual(range(90));
    expect(f.problems).toEqual([]);
    controller?.abort();
    await f.done;
  });

  it('a truncate-and-regrow by whoever reacts to the last record read: read again from the start', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-follow-'));
    const file = path.join(dir, 's.jsonl');
    writeFileSync(file, lines(0, 30));
    controller = new AbortController();
    const seen: number[] = [];
    const done = followFile(file, {
      signal: controller.signal, from: { offset: 0, lines: 0 }, pollMs: 20,
      onRecord: ({ record }) => {
        const n = Math.round(record.ts) - 1_764_000_000;
        seen.push(n);
        // The reaction lands before the follower's next step, as a rotation
        // triggered by the consumer would: lines of the same length, so the
        // old position falls on a line boundary of the new content.
        if (n === 29) { truncateSync(file, 0); appendFileSync(file, lines(30, 90)); }
      },
    });
    await waitUntil(() => seen.length >= 90, 'all 90 records');
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual(range(90));
    controller.abort();
    await done;
  });

  it('still follows plain appends, an unfinished last line once complete, and a file that appears later', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-follow-'));
    const file = path.join(dir, 's.jsonl');
    const f = follow(file);
    await new Promise((r) => setTimeout(r, 60));
    writeFileSync(file, lines(0, 2));
    await waitUntil(() => f.seen.length === 2, '2 records');
    const third = lines(2, 3);
    appendFileSync(file, third.slice(0, 40));
    await new Promise((r) => setTimeout(r, 80));
    expect(f.seen).toEqual([0, 1]);
    appendFileSync(file, third.slice(40));
    await waitUntil(() => f.seen.length === 3, '3 records');
    expect(f.seen).toEqual([0, 1, 2]);
    expect(f.problems).toEqual([]);
  });
});
