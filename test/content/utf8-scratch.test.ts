/**
 * Long texts are encoded in one walk (into reused scratch, then copied out):
 * the bytes are exactly `Buffer.from(text)`'s, lone surrogates included, the
 * result never shares memory with the scratch, and the scratch is bounded
 * and let go when idle.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { MessageCache } from '../../src/content/message-cache.js';
import { Utf8Scratch } from '../../src/content/utf8-scratch.js';

const awkward = ['a\uD83D\uDE00b', '\uD83D', '\uDE00x', 'x\uDBFF', '\u2028\u2029', '\u0000\u0001\u001f', 'Москва 東京 ✈️ café', '\uFFFF\uFFFE', 'é'];

describe('Utf8Scratch', () => {
  it('gives the bytes of Buffer.from, with and without a prefix byte', () => {
    const scratch = new Utf8Scratch(1024);
    fc.assert(fc.property(fc.array(fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom(...awkward)), { maxLength: 60 }), (parts) => {
      const text = parts.join('');
      expect(scratch.encode(text).equals(Buffer.from(text, 'utf8'))).toBe(true);
      expect(scratch.encode(text, 0x2c).equals(Buffer.from(`,${text}`, 'utf8'))).toBe(true);
    }), { numRuns: 400 });
  });

  it('copies the bytes out: a later text does not change an earlier result', () => {
    const scratch = new Utf8Scratch();
    const first = scratch.encode('東京'.repeat(1000), 0x2c);
    const copy = Buffer.from(first);
    scratch.encode('x'.repeat(3000), 0x2c);
    expect(first.equals(copy)).toBe(true);
    expect(first.length).toBe(1 + 6000);
  });

  it('keeps at most its bound, and encodes a text beyond it the measured way', () => {
    const scratch = new Utf8Scratch(4096);
    const long = `${'\uD83D\uDE00'.repeat(1000)}\uD800${'ж'.repeat(500)}`; // 3 * length > 4096
    expect(scratch.encode(long, 0x2c).equals(Buffer.from(`,${long}`, 'utf8'))).toBe(true);
    expect(scratch.heldBytes).toBe(0);
    scratch.encode('ж'.repeat(1000));
    expect(scratch.heldBytes).toBeGreaterThanOrEqual(3000);
    expect(scratch.heldBytes).toBeLessThanOrEqual(4096);
  });

  it('lets its memory go after a while unused', () => {
    vi.useFakeTimers();
    try {
      const scratch = new Utf8Scratch(1 << 20, 1000);
      scratch.encode('x'.repeat(5000));
      expect(scratch.heldBytes).toBeGreaterThan(0);
      vi.advanceTimersByTime(600);
      scratch.encode('y'.repeat(100)); // used again: kept past the first deadline
      vi.advanceTimersByTime(600);
      expect(scratch.heldBytes).toBeGreaterThan(0);
      vi.advanceTimersByTime(1500);
      expect(scratch.heldBytes).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("is what a long message's cached bytes are made with: ',' + JSON.stringify as UTF-8", () => {
    const cache = new MessageCache(undefined);
    const message = { role: 'user', content: `${'Погода \u2028 '.repeat(400)}\uDBFF end 😴`, n: 1e21 };
    const [piece] = cache.list([message]).pieces;
    expect(piece?.bytes(undefined).equals(Buffer.from(`,${JSON.stringify(message)}`, 'utf8'))).toBe(true);
  });
});
