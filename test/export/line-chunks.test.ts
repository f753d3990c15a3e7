/**
 * A line with more buffers than one writev takes is merged down a slice at a
 * time: the bytes stay the same, large buffers are not copied, and no piece
 * of work between two pauses copies much more than its budget.
 */
import { describe, expect, it } from 'vitest';
import type { EncodedLine } from '../../src/export/json-line.js';
import { ChunkArena, fewerChunks } from '../../src/export/line-chunks.js';

function lineOf(chunks: Buffer[]): EncodedLine {
  return { chunks, byteLength: chunks.reduce((sum, c) => sum + c.length, 0), truncatedChars: 0 };
}

/** Runs the generator to its end, counting its pauses. */
function drain(work: Generator<'step', EncodedLine, undefined>): { line: EncodedLine; pauses: number } {
  let pauses = 0;
  for (;;) {
    const next = work.next();
    if (next.done) return { line: next.value, pauses };
    pauses += 1;
  }
}

describe('fewerChunks', () => {
  it('leaves a line with few enough buffers as it is', () => {
    const line = lineOf([Buffer.from('{"a":'), Buffer.from('1}')]);
    const { line: out, pauses } = drain(fewerChunks(line, 10));
    expect(out).toBe(line);
    expect(pauses).toBe(0);
  });

  it('brings 6,000 buffers (a long session: its conversation once per reference) under the limit, bytes unchanged, a bounded copy per pause', () => {
    // Messages of mixed sizes, a few of them large, with multi-byte text.
    const chunks = Array.from({ length: 6000 }, (_, i) => Buffer.from(`,{"role":"user","content":"${'東京 café ✈️ '.repeat(i % 97 === 0 ? 4000 : 1 + (i % 40))}"}`));
    const line = lineOf(chunks);
    const budget = 64 * 1024;
    const { line: out, pauses } = drain(fewerChunks(line, 1022, undefined, budget));
    expect(out.chunks.length).toBeLessThanOrEqual(1022);
    expect(out.byteLength).toBe(line.byteLength);
    expect(Buffer.concat(out.chunks).equals(Buffer.concat(chunks))).toBe(true);
    // The large buffers (over the cap the runs were sized to) go out as they are, never copied.
    const large = chunks.filter((c) => c.length > 40_000);
    expect(large.length).toBeGreaterThan(10);
    const kept = new Set(out.chunks);
    for (const chunk of large) expect(kept.has(chunk)).toBe(true);
    // What was copied was copied in pieces: one pause per budget's worth at least.
    const originals = new Set<Buffer>(chunks);
    const copied = out.chunks.filter((c) => !originals.has(c)).reduce((sum, c) => sum + c.length, 0);
    expect(copied).toBeGreaterThan(budget * 4);
    expect(pauses).toBeGreaterThanOrEqual(Math.floor(copied / (budget + 40_000)));
  });

  it('keeps the newline that follows the line in memory only while the last buffer is kept as it is', () => {
    const memory = Buffer.from('abcdefghij\n');
    const tail = memory.subarray(2, 10);
    const merged = drain(fewerChunks({ ...lineOf([memory.subarray(0, 1), memory.subarray(1, 2), tail]), newlineAfter: true }, 2)).line;
    expect(merged.chunks.at(-1)).toBe(tail);
    expect(merged.newlineAfter).toBe(true);
    // The last two merged into other memory: no newline after that copy.
    const lastMerged = drain(fewerChunks({ ...lineOf([memory.subarray(0, 8), memory.subarray(8, 9), memory.subarray(9, 10)]), newlineAfter: true }, 2)).line;
    expect(Buffer.concat(lastMerged.chunks).toString()).toBe('abcdefghij');
    expect(lastMerged.newlineAfter).toBe(false);
  });

  it('merges only as much as needed: buffers already few enough by one are joined in one pair', () => {
    const chunks = Array.from({ length: 11 }, (_, i) => Buffer.from(`chunk-${i};`));
    const { line: out } = drain(fewerChunks(lineOf(chunks), 10));
    expect(out.chunks).toHaveLength(10);
    expect(Buffer.concat(out.chunks).toString()).toBe(chunks.map(String).join(''));
    const originals = new Set<Buffer>(chunks);
    expect(out.chunks.filter((c) => originals.has(c))).toHaveLength(9);
  });

  it('merges into the same memory line after line when given an arena (no fresh pages to fault in), and not beyond its cap', () => {
    const arena = new ChunkArena(1 << 20);
    const chunksOf = (tag: string, count: number, size: number) => Array.from({ length: count }, (_, i) => Buffer.from(`${tag}${i}`.padEnd(size, '.')));
    const first = drain(fewerChunks(lineOf(chunksOf('a', 100, 1000)), 10, arena)).line;
    const second = drain(fewerChunks(lineOf(chunksOf('b', 100, 1000)), 10, arena)).line;
    expect(Buffer.concat(second.chunks).toString()).toBe(chunksOf('b', 100, 1000).map(String).join(''));
    expect(second.chunks[0]!.buffer).toBe(first.chunks[0]!.buffer);
    expect(arena.heldBytes).toBeGreaterThanOrEqual(90_000);
    // Over the cap: memory of its own, the kept arena left as it is.
    const large = drain(fewerChunks(lineOf(chunksOf('c', 100, 20_000)), 10, arena)).line;
    expect(large.chunks[0]!.buffer).not.toBe(first.chunks[0]!.buffer);
    expect(arena.heldBytes).toBeLessThanOrEqual(1 << 20);
  });
});
