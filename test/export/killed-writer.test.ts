import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInput } from '../../src/offline/inputs.js';
import type { RecordProblem } from '../../src/offline/reader.js';
import { bundleFixture, type BundledFixture } from '../fixtures/bundle.js';

/** Kills at least this many writers… */
const MIN_TRIALS = 24;
/**
 * …and go on until this many kills landed mid-write, so that every run tests
 * torn tails: for up to MAX_TRIAL_MS rather than a number of trials, because
 * on a loaded machine fewer kills land inside a write(2). Every other kill
 * waits for a write to be under way (`untilWriteStarts`), so this is reached
 * within the first trials even then.
 */
const MIN_TORN = 3;
const MAX_TRIAL_MS = 110_000;
/** Writers started ahead of their turn, so that their start-up overlaps the trials before them. */
const WARM_AHEAD = 3;

interface Writer {
  child: ChildProcessWithoutNullStreams;
  ready: Promise<void>;
  /** Resolves with the time between the first two records, in ms. */
  twoRecords: Promise<number>;
  exited: Promise<unknown>;
  /** Ids of the turns whose line the writer had written when it said so. */
  acknowledged: string[];
  /** Grows by one byte just before each of the writer's lines goes to the file. */
  marker: string;
}

function startWriter(bundle: string, traceDir: string, worker: number, format: string): Writer {
  const marker = path.join(traceDir, `writer-${worker}.marker`);
  const child = spawn(process.execPath, [bundle, traceDir, String(worker), format, marker], { stdio: ['pipe', 'pipe', 'pipe'] });
  const acknowledged: string[] = [];
  let onReady = () => {};
  let onSecond = (_interval: number) => {};
  const ready = new Promise<void>((resolve) => { onReady = resolve; });
  const twoRecords = new Promise<number>((resolve) => { onSecond = resolve; });
  let firstAt = 0;
  let partial = '';
  child.stdout.on('data', (data: Buffer) => {
    const lines = (partial + data.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'ready') onReady();
      else {
        acknowledged.push(line);
        if (acknowledged.length === 1) firstAt = performance.now();
        if (acknowledged.length === 2) onSecond(performance.now() - firstAt);
      }
    }
  });
  child.stderr.on('data', (data: Buffer) => process.stderr.write(data));
  return { child, ready, twoRecords, exited: once(child, 'exit'), acknowledged, marker };
}

function endsWithNewline(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, fstatSync(fd).size - 1);
    return last[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

/**
 * Returns as soon as the writer announces its next line's write (its marker
 * file grows), or after `maxMs`. Polling synchronously, microseconds apart,
 * lets the kill that follows land while that write(2) of megabytes runs; a
 * timer, late by milliseconds on a busy machine, mostly does not. (The trace
 * file's own size is no such sign: it often grows by the whole line at once.)
 */
function untilWriteStarts(writer: Writer, maxMs: number): void {
  const size = () => (existsSync(writer.marker) ? statSync(writer.marker).size : 0);
  const before = size();
  const deadline = performance.now() + maxMs;
  while (performance.now() < deadline && size() === before) { /* poll */ }
}

describe.each(['jsonl', 'compact'])('a writer killed mid-append (%s)', (format) => {
  let writerBundle: BundledFixture;
  beforeAll(async () => {
    writerBundle = await bundleFixture(path.resolve(import.meta.dirname, '../fixtures/kill-writer.ts'));
  });
  afterAll(() => writerBundle.cleanup());

  it(`kill -9 of a writer of 1–5 MB turns, ${MIN_TRIALS}+ times, the next writer appending: no complete record is lost`, async () => {
    const traceDir = mkdtempSync(path.join(tmpdir(), 'moa-killed-'));
    const file = path.join(traceDir, 'killed.jsonl');
    const warm: Writer[] = [];
    try {
      const acknowledged: string[] = [];
      let trials = 0;
      let tornByKill = 0;
      for (let w = 0; w < WARM_AHEAD; w++) warm.push(startWriter(writerBundle.file, traceDir, w, format));
      const started = performance.now();
      while (trials < MIN_TRIALS || (tornByKill < MIN_TORN && performance.now() - started < MAX_TRIAL_MS)) {
        const writer = warm.shift() as Writer;
        warm.push(startWriter(writerBundle.file, traceDir, trials + WARM_AHEAD, format));
        await writer.ready;
        writer.child.stdin.write('go\n');
        const interval = await writer.twoRecords;
        if (trials % 2 === 0) {
          // Somewhere in the next turn: while encoding it, or in the middle of its write(2).
          await new Promise((resolve) => setTimeout(resolve, Math.random() * interval));
        } else {
          // In the middle of its write(2). A timer alone lands there too rarely on a loaded machine
          // (3 in 145 kills in one run, close to running out of time): wait for the write to begin.
          untilWriteStarts(writer, Math.max(interval * 4, 200));
        }
        writer.child.kill('SIGKILL');
        await writer.exited;
        acknowledged.push(...writer.acknowledged);
        trials += 1;
        if (!endsWithNewline(file)) tornByKill += 1;
      }

      const problems: RecordProblem[] = [];
      const written = new Set<string>();
      // The reader every command uses: it expands compact records from the file's message lines.
      for await (const { record } of readInput({ file }, { onProblem: (p) => problems.push(p) })) {
        written.add(record.references[0]?.output ?? '');
      }
      const lost = acknowledged.filter((id) => !written.has(id));
      expect(lost).toEqual([]);
      // Every line is a record or the fragment a killed writer left; nothing else.
      expect(problems.filter((p) => p.kind !== 'torn')).toEqual([]);
      expect(acknowledged.length).toBeGreaterThanOrEqual(2 * trials);
      // Kills did land mid-write, or the test proves nothing; every fragment they left is reported as torn
      // (mid-file, closed by the next writer, or as the torn last line) and the records after it are read.
      expect(tornByKill).toBeGreaterThanOrEqual(MIN_TORN);
      expect(problems.length).toBe(tornByKill);
      console.log(`killed-writer (${format}): ${trials} kills, ${tornByKill} mid-write, ${acknowledged.length} acknowledged records, ${written.size} read`);
    } finally {
      for (const writer of warm) writer.child.kill('SIGKILL');
      await Promise.all(warm.map((writer) => writer.exited));
      rmSync(traceDir, { recursive: true, force: true });
    }
  }, 180_000);
});
