/**
 * The bench's reading of page-cache writes (bench/page-cache.ts): rounds in
 * which either side's write ran at the machine's cold-memory rate are told
 * apart, even when they are most of a row, and nothing else is.
 */
import { describe, expect, it } from 'vitest';
import { isColdWrite, summarizeWrites, type RoundWrites } from '../../bench/page-cache.js';

const MB10 = 9_930_000;
/** Numbers as measured on the 10 MB row: our write 2.2 ms warm, 22–31 ms cold; the floor's encode + write about 17 ms. */
const round = (ours: number, floor: number, bytes = MB10): RoundWrites => ({ ours: { bytes, cpuMs: ours }, floor: { bytes, cpuMs: floor } });

describe('page-cache write classification', () => {
  it('finds a streak of cold writes even when they are most of the row', () => {
    const rounds = [round(23.5, 17), round(23.4, 17.5), round(2.3, 16.8), round(23.7, 18), round(24.1, 17.2), round(6.3, 17.1), round(14.6, 17.9), round(2.5, 17.4)];
    const summary = summarizeWrites(rounds);
    expect(summary.coldOurs).toBe(5);
    expect(summary.coldFloor).toBe(0);
    // 6.3 ms is slower than usual but not at the cold rate (4x the cheapest copy): kept.
    expect(summary.warmRounds).toEqual([2, 5, 7]);
    expect(summary.copyMsPerMb).toBeCloseTo(2.3 / 9.93, 3);
    expect(summary.coldMsPerMb).toBeCloseTo(23.5 / 9.93, 2);
  });

  it("judges the floor's write against its own cheapest, since it also encodes its string", () => {
    const rounds = [round(2.2, 17), round(2.3, 18.5), round(2.2, 38), round(2.4, 16.9)];
    const summary = summarizeWrites(rounds);
    expect(summary.coldOurs).toBe(0);
    expect(summary.coldFloor).toBe(1);
    expect(summary.warmRounds).toEqual([0, 1, 3]);
    expect(summary.coldMsPerMb).toBeUndefined();
  });

  it('needs at least a millisecond more on small writes, where a factor alone is noise', () => {
    // 1 MB: 0.22 ms warm; 0.9 ms is four times that but within a millisecond.
    expect(isColdWrite({ bytes: 980_000, cpuMs: 0.9 }, 0.22, 0.22)).toBe(false);
    expect(isColdWrite({ bytes: 980_000, cpuMs: 2.4 }, 0.22, 0.22)).toBe(true);
  });

  it('calls nothing cold when a side could not be timed', () => {
    const rounds = [round(Number.NaN, 17), round(Number.NaN, 40)];
    const summary = summarizeWrites(rounds);
    expect(summary.coldOurs).toBe(0);
    expect(summary.coldFloor).toBe(0);
    expect(summary.warmRounds).toEqual([0, 1]);
  });
});
