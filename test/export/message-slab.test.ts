/**
 * A long session's messages are laid side by side once per session, so its
 * lines go to writev as a few buffers without being merged (copied) line
 * after line, and the bytes stay those of JSON.stringify.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MessageCache } from '../../src/content/message-cache.js';
import { encodeLine, RawSlots } from '../../src/export/json-line.js';
import { JsonlSpanProcessor } from '../../src/export/jsonl-exporter.js';
import { chunksBeforeJoining, MessageSlabs, PACKED_MAX_BYTES } from '../../src/export/message-slab.js';
import { MoaInstrumentation } from '../../src/trace/instrumentation.js';

/** Buffers per writev call, as the writer handed them to the kernel. */
const writes: number[] = [];

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writevSync = (fd: number, buffers: NodeJS.ArrayBufferView[], position?: number) => {
    writes.push(buffers.length);
    return fs.writevSync(fd, buffers, position);
  };
  const writev = (fd: number, buffers: NodeJS.ArrayBufferView[], ...rest: unknown[]) => {
    writes.push(buffers.length);
    return (fs.writev as (...args: unknown[]) => void)(fd, buffers, ...rest);
  };
  return { ...fs, default: { ...fs, writev, writevSync }, writev, writevSync };
});

afterEach(() => {
  writes.length = 0;
});

function drain(work: Generator<'step', void, undefined>): number {
  let pauses = 0;
  while (!work.next().done) pauses += 1;
  return pauses;
}

const NASTY = 'mixed ✈️ 東京 Москва 🧭 [\u2028] [\u0000] [\ud800] " \\ ';

describe('MessageSlabs', () => {
  it('lays a list\'s messages side by side: encodeLine gives one buffer for them, the same bytes as JSON.stringify', () => {
    const cache = new MessageCache(undefined);
    const messages = Array.from({ length: 300 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `${i} ${NASTY.repeat(1 + (i % 9))}`, n: 1e21 * i }));
    const list = cache.list(messages);
    const slots = new RawSlots();
    const record = { ts: 1, messages: slots.holdMessages(list), again: slots.holdMessages(cache.list(messages)) };
    const expected = JSON.stringify({ ts: 1, messages, again: messages });
    // Before: each message is a buffer of its own (small ones may share the runtime's pool, a few side by side).
    expect(encodeLine(record, slots).chunks.length).toBeGreaterThan(300);
    const pauses = drain(new MessageSlabs().place(slots.messageLists, 16 * 1024));
    expect(pauses).toBeGreaterThan(2); // the copying is done a budget at a time
    const line = encodeLine(record, slots);
    // Three pieces of skeleton, and each list's messages as one run per block of memory (two blocks here).
    expect(line.chunks.length).toBeLessThanOrEqual(7);
    expect(Buffer.concat(line.chunks).toString('utf8')).toBe(expected);
    expect(line.byteLength).toBe(Buffer.byteLength(expected));
  });

  it('copies each message once per session: a later list finds the earlier messages in place and adds only the new ones', () => {
    const cache = new MessageCache(undefined);
    const slabs = new MessageSlabs();
    const history = Array.from({ length: 200 }, (_, i) => ({ role: 'user', content: `${i} ${NASTY}` }));
    const first = cache.list(history);
    drain(slabs.place([first], 1 << 20));
    const placed = first.pieces.map((p) => p.bytes(undefined));
    history.push({ role: 'assistant', content: 'new one' });
    const second = cache.list(history);
    drain(slabs.place([second], 1 << 20));
    // The same memory as before for every earlier message (not copied again), the new one right after them.
    second.pieces.slice(0, 200).forEach((p, i) => expect(p.bytes(undefined)).toBe(placed[i]));
    const last = placed[199]!;
    const added = second.pieces[200]!.bytes(undefined);
    expect(added.buffer).toBe(last.buffer);
    expect(added.byteOffset).toBe(last.byteOffset + last.length);
  });

  it('leaves a large message in its own buffer, and does not join pieces with a gap between them', () => {
    const cache = new MessageCache(undefined);
    const big = { role: 'tool', content: 'x'.repeat(PACKED_MAX_BYTES + 10) };
    const list = cache.list([{ role: 'user', content: 'a' }, big, { role: 'user', content: 'b' }]);
    const before = list.pieces[1]!.bytes(undefined);
    drain(new MessageSlabs().place([list], 1 << 20));
    expect(list.pieces[1]!.bytes(undefined)).toBe(before);
    const slots = new RawSlots();
    const record = { m: slots.holdMessages(list) };
    const line = encodeLine(record, slots);
    expect(Buffer.concat(line.chunks).toString()).toBe(JSON.stringify({ m: [{ role: 'user', content: 'a' }, big, { role: 'user', content: 'b' }] }));
    expect(line.chunks.length).toBeGreaterThanOrEqual(4);
  });

  it('keeps a session\'s memory bounded by its lines when a few messages are kept while the rest of the history changes', () => {
    const cache = new MessageCache(undefined);
    const slabs = new MessageSlabs();
    // Each turn: 10 new messages of 5,000 characters, one short summary of them kept for good (an agent compacting its history).
    const summaries: Array<{ role: string; content: string }> = [];
    let list = cache.list([]);
    for (let turn = 0; turn < 600; turn++) {
      const fresh = Array.from({ length: 10 }, (_, i) => ({ role: 'user', content: `${turn}.${i} ${'x'.repeat(5000)}` }));
      list = cache.list([...summaries, ...fresh]);
      drain(slabs.place([list], 1 << 20));
      summaries.push({ role: 'assistant', content: `summary ${turn} ${'s'.repeat(400)}` });
    }
    // What the live messages keep alive: every block one of them lies in.
    const blocks = new Set<ArrayBufferLike>(list.pieces.map((p) => p.bytes(undefined).buffer));
    const pinned = [...blocks].reduce((sum, b) => sum + b.byteLength, 0);
    const lineBytes = list.pieces.reduce((sum, p) => sum + p.bytes(undefined).length, 0);
    // 30 MB of text went through; without starting afresh, the summaries alone would pin a block each 20 turns (30 MiB).
    expect(pinned).toBeLessThan(3 * lineBytes + 6 * 1024 * 1024);
    expect(slabs.takenBy(cache)).toBeLessThanOrEqual(2 * lineBytes + 5 * 1024 * 1024);
    // And the line still reads as JSON.stringify gives it.
    const slots = new RawSlots();
    const record = { m: slots.holdMessages(list) };
    expect(Buffer.concat(encodeLine(record, slots).chunks).toString()).toBe(JSON.stringify({ m: [...summaries.slice(0, -1), ...list.pieces.slice(-10).map((p) => JSON.parse(p.json(undefined)) as unknown)] }));
  });

  it('copies each message once when the references each carry a history of their own (distinct lists, megabytes each)', () => {
    const cache = new MessageCache(undefined, 1e9);
    const slabs = new MessageSlabs();
    const histories: Array<Array<{ role: string; content: string }>> = [[], [], [], []];
    let copiedLastLine = 0;
    let lineBytes = 0;
    for (let turn = 0; turn < 60; turn++) {
      histories.forEach((h, r) => { for (let k = 0; k < 20; k++) h.push({ role: 'user', content: `${r}.${turn}.${k} ${NASTY.repeat(40)}` }); });
      const lists = histories.map((h) => cache.list(h));
      const before = lists.map((l) => l.pieces.map((p) => p.bytes(undefined)));
      drain(slabs.place(lists, 1 << 30));
      copiedLastLine = lists.reduce((n, l, i) => n + l.pieces.filter((p, j) => p.bytes(undefined) !== before[i]![j]).length, 0);
      lineBytes = lists.reduce((n, l) => n + l.pieces.reduce((m, p) => m + p.bytes(undefined).length, 0), 0);
    }
    // 2.4 MB per history by the end, 9.6 MB a line: only this turn's 80 messages are new; nothing is copied again line after line.
    expect(lineBytes).toBeGreaterThan(8 * 1024 * 1024);
    expect(copiedLastLine).toBe(80);
    expect(slabs.takenBy(cache)).toBeLessThanOrEqual(2 * lineBytes + 5 * 1024 * 1024);
  });

  it('counts the buffers a line would have before joining', () => {
    const cache = new MessageCache(undefined);
    expect(chunksBeforeJoining([cache.list([1, 2, 3]), cache.list([])])).toBe(1 + 4 + 1);
  });
});

describe('a growing session through the sink', () => {
  it('writes each long line as a few buffers, byte for byte the messages as sent, a message edited in place written as it reads now', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-slab-'));
    const jsonl = new JsonlSpanProcessor({ traceDir: dir, env: {} });
    const instrumentation = new MoaInstrumentation({ tracerProvider: new BasicTracerProvider({ spanProcessors: [jsonl] }), env: {} });
    // 1,500 messages carried from turn to turn (the same objects), to three references and the aggregator: 6,000 pieces a line.
    const history = Array.from({ length: 1500 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `${i} ${NASTY.repeat(4)}` }));
    const expectedLines: string[] = [];
    const turn = (output: string) => {
      const t = instrumentation.startTurn({ sessionId: 'grow', preset: 'p' });
      for (let index = 0; index < 3; index++) t.startReference({ index, model: 'm', provider: 'p', messages: history }).end({ output });
      t.startAggregator({ model: 'agg', provider: 'p', messages: history }).end({ output });
      t.end();
      expectedLines.push(`"input_messages":${JSON.stringify(history)}`);
    };
    for (let i = 0; i < 3; i++) {
      turn(`turn ${i}`);
      await jsonl.forceFlush();
      history.push({ role: 'user', content: `question ${i} ${NASTY}` });
      // Edited in place after it was laid out: the next line must have the new text, the written ones the old.
      history[700]!.content = `edited ${i} ${NASTY}`;
    }
    await jsonl.shutdown();
    const lines = readFileSync(path.join(dir, 'grow.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    lines.forEach((line, i) => {
      // Each call's messages, exactly as JSON.stringify gives them, four times a line.
      expect(line.split(expectedLines[i]!).length - 1).toBe(4);
    });
    // Without the layout, a line of 6,000 pieces was merged into the most buffers one writev takes (about 1,024).
    expect(writes).toHaveLength(3);
    for (const buffers of writes) expect(buffers).toBeLessThan(64);
  });
});
