/**
 * The bench's reading of page-cache writes (bench/page-cache.ts): rounds in
 * which either side's write ran at the machine's cold-memory rate are told
 * apart, even when they are most of a row, and nothing else is.
 */
import { describe, expect, it } from 'vitest';
import { isColdWrite, sessionWrites, summarizeWrites, type RoundWrites } from '../../bench/page-cache.js';

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

describe('a growing session\'s writes', () => {
  it('counts every turn, and gives the ratio with each side\'s writes at its usual rate', () => {
    // Lines of 2, 4 and 6 MB: ours 0.2 ms/MB warm, the middle one cold (2.3 ms/MB); the floor 1.7 ms/MB (encoding and write).
    const writes = [round(0.4, 3.4, 2e6), round(9.2, 6.8, 4e6), round(1.2, 10.2, 6e6)];
    const summary = sessionWrites(writes, 100, 300);
    if (!summary) throw new Error('expected a summary');
    expect(summary.coldOurs).toBe(1);
    expect(summary.coldFloor).toBe(0);
    expect(summary.oursWriteMs).toBeCloseTo(10.8, 6);
    expect(summary.megabytes).toBeCloseTo(12, 6);
    expect(summary.oursUsualMsPerMb).toBeCloseTo(0.2, 6);
    // Ours: 100 - 10.8 + 0.2 * 12 = 91.6; the floor: 300 - 20.4 + 1.7 * 12 = 300.
    expect(summary.ratioAtUsualWrites).toBeCloseTo(91.6 / 300, 6);
  });

  it('gives nothing when a side could not be timed', () => {
    expect(sessionWrites([round(Number.NaN, 3.4, 2e6)], 10, 30)).toBeUndefined();
  });
});
