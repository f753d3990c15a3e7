/**
 * The bench's reading of page-cache writes (bench/page-cache.ts): rounds in
 * which either side's write ran at the machine's cold-memory rate are told
 * apart against each side's reference (the same work over resident pages),
 * even when every round was cold, and nothing else is.
 */
import { describe, expect, it } from 'vitest';
import { parseCpuList } from '../../bench/page-cache-warm.js';
import { atReference, chooseRatioBasis, describeRowWrites, isColdWrite, sessionWrites, summarizeWrites, type RoundWrites } from '../../bench/page-cache.js';

const MB10 = 9_930_000;
/**
 * Numbers as measured on the 10 MB row: our write 2.2 ms warm, 22–31 ms cold, its reference 2.1–3.1 ms;
 * the floor's encode + write about 17–24 ms, its reference 18–20 ms.
 */
const round = (ours: number, floor: number, bytes = MB10, oursReference = 2.4, floorReference = 19): RoundWrites => ({
  ours: { bytes, cpuMs: ours }, floor: { bytes, cpuMs: floor },
  oursReference: { bytes, cpuMs: oursReference }, floorReference: { bytes, cpuMs: floorReference },
});

describe('page-cache write classification', () => {
  it('finds a streak of cold writes even when they are most of the row', () => {
    const rounds = [round(23.5, 17), round(23.4, 17.5), round(2.3, 16.8), round(23.7, 18), round(24.1, 17.2), round(6.3, 17.1), round(14.6, 17.9), round(2.5, 17.4)];
    const summary = summarizeWrites(rounds);
    expect(summary.coldOurs).toBe(5);
    expect(summary.coldFloor).toBe(0);
    // 6.3 ms is slower than usual but not at the cold rate (4x the reference): kept.
    expect(summary.warmRounds).toEqual([2, 5, 7]);
    expect(summary.copyMsPerMb).toBeCloseTo(2.3 / 9.93, 3);
    expect(summary.referenceMsPerMb).toBeCloseTo(2.4 / 9.93, 3);
    expect(summary.coldMsPerMb).toBeCloseTo(23.5 / 9.93, 2);
  });

  it('says so when every round was cold (judged against the cheapest write, such a row looked warm)', () => {
    // The lead's 10 MB row at 04:40: our writes from 2.17 ms/MB, every one of them cold; the references stayed warm.
    const rounds = [21.5, 22.8, 24.0, 21.6, 25.3, 23.1, 22.2, 24.7].map((ours) => round(ours, 17.5));
    const summary = summarizeWrites(rounds);
    expect(summary.coldOurs).toBe(8);
    expect(summary.warmRounds).toEqual([]);
    expect(summary.copyMsPerMb).toBeCloseTo(21.5 / 9.93, 3);
  });

  it("judges the floor's write against its own reference, since it also encodes its string", () => {
    const rounds = [round(2.2, 17), round(2.3, 23.6), round(2.2, 40), round(2.4, 16.9)];
    const summary = summarizeWrites(rounds);
    expect(summary.coldOurs).toBe(0);
    // 23.6 ms is the floor's noise (measured up to 24 ms in warm rounds); 40 ms is a cold write.
    expect(summary.coldFloor).toBe(1);
    expect(summary.warmRounds).toEqual([0, 1, 3]);
    expect(summary.coldMsPerMb).toBeUndefined();
  });

  it('finds a floor cold in every round too', () => {
    const rounds = [round(2.2, 39), round(2.3, 41), round(2.2, 40)];
    expect(summarizeWrites(rounds).coldFloor).toBe(3);
  });

  it('needs at least a millisecond more on small writes, where a factor alone is noise', () => {
    // 1 MB: 0.22 ms warm; 0.9 ms is four times that but within a millisecond.
    expect(isColdWrite({ bytes: 980_000, cpuMs: 0.9 }, 0.22, 0.22)).toBe(false);
    expect(isColdWrite({ bytes: 980_000, cpuMs: 2.4 }, 0.22, 0.22)).toBe(true);
  });

  it('calls a write nothing when it or the references could not be timed', () => {
    const untimedOurs = summarizeWrites([round(Number.NaN, 17), round(Number.NaN, 40)]);
    expect(untimedOurs.coldOurs).toBe(0);
    expect(untimedOurs.coldFloor).toBe(1);
    const noReferences = summarizeWrites([round(24, 17, MB10, Number.NaN, Number.NaN), round(2.3, 40, MB10, Number.NaN, Number.NaN)]);
    expect(noReferences.coldOurs + noReferences.coldFloor).toBe(0);
    expect(noReferences.warmRounds).toEqual([0, 1]);
  });

  it("gives the ratio of medians with each side's write replaced by its reference", () => {
    // Three rounds: ours 12 ms of which 2.4 (or a cold 24) is the write; the floor 35 ms of which 18 is the write.
    const rounds = [round(2.4, 18, MB10, 2.5, 19), round(24, 18, MB10, 2.3, 19), round(24, 18, MB10, 2.4, 18)];
    const result = atReference(rounds, [12, 33.6, 34], [35, 35, 35]);
    // Ours: 12 - 2.4 + 2.5 = 12.1, 33.6 - 24 + 2.3 = 11.9, 34 - 24 + 2.4 = 12.4; the floor: 36, 36, 35.
    expect(result.oursCpuMs).toBeCloseTo(12.1, 6);
    expect(result.floorCpuMs).toBeCloseTo(36, 6);
    expect(result.ratio).toBeCloseTo(12.1 / 36, 6);
  });
});

describe("a large row's verdict", () => {
  const allCold = [21.5, 22.8, 24.0, 21.6, 25.3, 23.1, 22.2, 24.7].map((ours) => round(ours, 17.5));

  it('takes the ratio with each side\'s write at its reference when fewer than half the rounds asked were warm', () => {
    expect(chooseRatioBasis(summarizeWrites(allCold), 8)).toBe('reference writes');
    const threeWarm = [...allCold.slice(0, 5), round(2.3, 17.5), round(2.4, 17.5), round(2.2, 17.5)];
    expect(chooseRatioBasis(summarizeWrites(threeWarm), 8)).toBe('reference writes');
    expect(chooseRatioBasis(summarizeWrites([...threeWarm, round(2.2, 17.6)]), 8)).toBe('warm rounds');
  });

  it('says every round was cold and which ratio it printed, never "none cold"', () => {
    const line = describeRowWrites({ pageCache: summarizeWrites(allCold), roundCount: 8, ratioBasis: 'reference writes', allRoundsRatio: 0.9, referenceRatio: 0.31 }, true);
    expect(line).toContain('all 8 rounds had a write at the machine\'s cold-memory rate (ours 8 at 2.');
    expect(line).toContain('ratio above with each side\'s write at its reference; 0.90x over all rounds as measured');
    expect(line).toMatch(/^page cache \(pre-faulted\): our writes from 2\.17 ms\/MB; references \(the same work over resident pages\) ours 0\.24, floor 1\.91 ms\/MB/);
    expect(line).not.toContain('none');
  });

  it('gives all three ratios when some rounds were cold', () => {
    const rounds = [round(23.5, 17), round(2.3, 16.8), round(2.5, 17.4)];
    const line = describeRowWrites({ pageCache: summarizeWrites(rounds), roundCount: 3, ratioBasis: 'warm rounds', allRoundsRatio: 0.5, referenceRatio: 0.33 }, false);
    expect(line).toContain('1 of 3 rounds had a write at the machine\'s cold-memory rate (ours 1 at 2.37 ms/MB, floor 0; bench/page-cache.ts): ratio above over the 2 others; 0.50x over all rounds as measured, 0.33x with each side\'s write at its reference');
    expect(line.startsWith('page cache: ')).toBe(true);
  });
});

describe('a growing session\'s writes', () => {
  it('counts every turn, and gives the ratio with each side\'s writes at its reference', () => {
    // Lines of 2, 4 and 6 MB: ours 0.2 ms/MB warm, the middle one cold (2.3 ms/MB); the floor 1.7 ms/MB (encoding and write).
    const writes = [round(0.4, 3.4, 2e6, 0.44, 3.3), round(9.2, 6.8, 4e6, 0.8, 6.9), round(1.2, 10.2, 6e6, 1.3, 10.1)];
    const summary = sessionWrites(writes, 100, 300);
    if (!summary) throw new Error('expected a summary');
    expect(summary.coldOurs).toBe(1);
    expect(summary.coldFloor).toBe(0);
    expect(summary.warmRounds).toEqual([0, 2]);
    expect(summary.oursWriteMs).toBeCloseTo(10.8, 6);
    expect(summary.oursReferenceMs).toBeCloseTo(2.54, 6);
    expect(summary.megabytes).toBeCloseTo(12, 6);
    // Ours: 100 - 10.8 + 2.54 = 91.74; the floor: 300 - 20.4 + 20.3 = 299.9.
    expect(summary.ratioAtReference).toBeCloseTo(91.74 / 299.9, 6);
  });

  it('finds the cold turns when all of a session\'s large lines were cold', () => {
    const writes = [round(4.6, 3.4, 2e6, 0.44, 3.3), round(9.2, 6.8, 4e6, 0.8, 6.9), round(13.8, 10.2, 6e6, 1.3, 10.1)];
    expect(sessionWrites(writes, 100, 300)?.coldOurs).toBe(3);
  });

  it('gives nothing when a side could not be timed', () => {
    expect(sessionWrites([round(Number.NaN, 3.4, 2e6)], 10, 30)).toBeUndefined();
  });
});

describe("the pre-fault's CPU list", () => {
  it('reads taskset and the kernel\'s lists: single CPUs and ranges', () => {
    expect(parseCpuList('0-1')).toEqual([0, 1]);
    expect(parseCpuList('0,2-4,7\n')).toEqual([0, 2, 3, 4, 7]);
    expect(parseCpuList('3')).toEqual([3]);
  });

  it('gives nothing for what is not such a list', () => {
    expect(parseCpuList('')).toEqual([]);
    expect(parseCpuList('ff')).toEqual([]);
    expect(parseCpuList('0-1,x')).toEqual([]);
  });
});
