/**
 * Large lines are written on libuv's thread pool, not on the event loop:
 * the copy of megabytes into the page cache is the longest block a turn
 * would otherwise cause. `node:fs` is wrapped (the real functions do the
 * work) so the test can see which write(2) carried the line.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AppendWriter } from '../../src/export/append-writer.js';
import { JsonlSpanProcessor } from '../../src/export/jsonl-exporter.js';
import { MoaInstrumentation } from '../../src/trace/instrumentation.js';

const writes = vi.hoisted(() => ({ sync: [] as number[], pool: [] as number[] }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const total = (buffers: readonly NodeJS.ArrayBufferView[]) => buffers.reduce((sum, b) => sum + b.byteLength, 0);
  const writevSync: typeof fs.writevSync = (fd, buffers, position) => {
    writes.sync.push(total(buffers));
    return fs.writevSync(fd, buffers, position);
  };
  const writev = ((fd: number, buffers: NodeJS.ArrayBufferView[], ...rest: unknown[]) => {
    writes.pool.push(total(buffers));
    return (fs.writev as (...args: unknown[]) => void)(fd, buffers, ...rest);
  }) as typeof fs.writev;
  return { ...fs, default: { ...fs, writevSync, writev }, writevSync, writev };
});

beforeEach(() => {
  writes.sync.length = 0;
  writes.pool.length = 0;
});

/** Descriptors of this process open on `file` now (Linux). */
function descriptorsOn(file: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  }).length;
}

describe('AppendWriter.appendLineInBackground', () => {
  it('writes the line whole with one writev on the pool, and counts it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-bg-'));
    const file = path.join(dir, 's.jsonl');
    const writer = new AppendWriter();
    const chunks = [Buffer.from('{"a":"'), Buffer.alloc(3_000_000, 'é'), Buffer.from('"}')];
    const line = { chunks, byteLength: chunks.reduce((sum, c) => sum + c.length, 0), truncatedChars: 0 };
    await expect(writer.appendLineInBackground(file, line)).resolves.toBe(true);
    expect(writes.pool).toEqual([line.byteLength + 1]);
    expect(writes.sync).toEqual([]);
    expect(readFileSync(file).equals(Buffer.concat([...chunks, Buffer.from('\n')]))).toBe(true);
    expect(writer.stats).toMatchObject({ linesWritten: 1, bytesWritten: line.byteLength + 1, writeErrors: 0 });
    // The next line, written at once, goes after it.
    expect(writer.appendLine(file, '{"b":1}')).toBe(true);
    expect(readFileSync(file, 'utf8').endsWith('"}\n{"b":1}\n')).toBe(true);
    writer.close();
  });

  it('closing the writer while the write is on the pool keeps the descriptor open until it ends (its number could be reused)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-bg-'));
    const file = path.join(dir, 's.jsonl');
    const writer = new AppendWriter();
    const chunks = [Buffer.alloc(8_000_000, 'x')];
    const written = writer.appendLineInBackground(file, { chunks, byteLength: chunks[0]!.length, truncatedChars: 0 });
    writer.close();
    expect(writer.openDescriptors).toBe(0);
    // Still open for the write in flight …
    expect(descriptorsOn(file)).toBe(1);
    await expect(written).resolves.toBe(true);
    // … and closed once it is done, the line whole.
    expect(descriptorsOn(file)).toBe(0);
    expect(readFileSync(file).length).toBe(8_000_001);
  });
});

describe('the JSONL sink', () => {
  function setup() {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-bg-sink-'));
    const jsonl = new JsonlSpanProcessor({ traceDir: dir, env: {} });
    const instrumentation = new MoaInstrumentation({ tracerProvider: new BasicTracerProvider({ spanProcessors: [jsonl] }), env: {} });
    return { dir, jsonl, instrumentation };
  }

  it('writes a 3 MB line on the pool and a small one at once', async () => {
    const { dir, jsonl, instrumentation } = setup();
    const text = 'Москва → 東京, café ✈️ '.repeat(2_000);
    const messages = Array.from({ length: 40 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `${i} ${text}` }));
    const big = instrumentation.startTurn({ sessionId: 's', preset: 'p' });
    big.startAggregator({ model: 'agg', provider: 'p', messages }).end({ output: 'big' });
    big.end();
    await jsonl.forceFlush();
    const small = instrumentation.startTurn({ sessionId: 's', preset: 'p' });
    small.startAggregator({ model: 'agg', provider: 'p', messages: [{ role: 'user', content: 'hi' }] }).end({ output: 'small' });
    small.end();
    await jsonl.forceFlush();
    const lines = readFileSync(path.join(dir, 's.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(lines.map((l) => (JSON.parse(l) as { aggregator: { output: string } }).aggregator.output)).toEqual(['big', 'small']);
    const bigBytes = Buffer.byteLength(lines[0]!) + 1;
    expect(bigBytes).toBeGreaterThan(3_000_000);
    expect(writes.pool).toEqual([bigBytes]);
    expect(writes.sync).toEqual([Buffer.byteLength(lines[1]!) + 1]);
    await jsonl.shutdown();
  });

  it('at shutdown a large line still queued is written at once, not left to the pool', async () => {
    const { dir, jsonl, instrumentation } = setup();
    const messages = Array.from({ length: 40 }, (_, i) => ({ role: 'user', content: `${i} ${'x'.repeat(60_000)}` }));
    const turn = instrumentation.startTurn({ sessionId: 'shut', preset: 'p' });
    turn.startAggregator({ model: 'agg', provider: 'p', messages }).end({ output: 'kept' });
    turn.end();
    const file = path.join(dir, 'shut.jsonl');
    expect(existsSync(file)).toBe(false);
    const shutdown = jsonl.shutdown();
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    expect(writes.pool).toEqual([]);
    await shutdown;
  });
});

describe('shutdown while a line is on the pool', () => {
  it('lets that write end first, then writes the lines still queued after it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-bg-order-'));
    const jsonl = new JsonlSpanProcessor({ traceDir: dir, env: {} });
    const instrumentation = new MoaInstrumentation({ tracerProvider: new BasicTracerProvider({ spanProcessors: [jsonl] }), env: {} });
    const turn = (output: string, messages: Array<{ role: string; content: string }>) => {
      const t = instrumentation.startTurn({ sessionId: 'o', preset: 'p' });
      t.startAggregator({ model: 'agg', provider: 'p', messages }).end({ output });
      t.end();
    };
    turn('first', Array.from({ length: 30 }, (_, i) => ({ role: 'user', content: `${i} ${'y'.repeat(100_000)}` })));
    turn('second', [{ role: 'user', content: 'small' }]);
    // Wait until the first line's write is on the pool, then shut down.
    while (writes.pool.length === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    await jsonl.shutdown();
    const outputs = readFileSync(path.join(dir, 'o.jsonl'), 'utf8').split('\n').filter(Boolean)
      .map((l) => (JSON.parse(l) as { aggregator: { output: string } }).aggregator.output);
    expect(outputs).toEqual(['first', 'second']);
  });
});
