/**
 * Tells apart the rounds in which a write into the page cache ran at the
 * machine's "cold memory" rate, so the large rows' ratio shows our code's
 * cost and the machine's apart.
 *
 * What was measured (issue 20, the 10 MB rows' slow streaks), on this VM
 * (Firecracker guest, virtio-balloon with free page reporting, DAMON
 * reclaiming cold page cache):
 * - a slow round's extra time is all in one place: the thread that writes
 *   the line (libuv's pool) spends 22–31 ms instead of 2.2 ms on the same
 *   10 MB `writev`, with no page fault of its own; 96 % of its samples are
 *   the kernel's copy into page-cache pages (`copy_folio_from_iter_atomic`),
 *   against 54 % in a normal round. Copying the same buffers into memory of
 *   our own at that moment takes 1.3 ms, so the source is not slow: the
 *   pages being written to are;
 * - the same happens without moa-otel (`page-cache-probe.ts`): a loop
 *   writing 10 MB into new files costs 2–3 ms per write while the kernel has
 *   recently freed memory to give, then 15–24 ms per write, every write
 *   (about 9 µs per 4 KiB page and no page fault in the guest: most likely
 *   the host backing again a page the guest had given back); delete the
 *   files and write them again, and every write is back at 2 ms. Anonymous memory (our buffers) does not show it: 150
 *   fresh 10 MB buffers cost 5 ms each, faults included;
 * - so which write pays it depends on how much recently freed memory the
 *   whole VM has at that moment (other processes' allocations too), and it
 *   comes in streaks. The floor's `appendFileSync` pays it as well when it
 *   gets such pages (its write, not its `JSON.stringify`).
 *
 * What the bench does about it (`page-cache-warm.ts`): before each side's
 * write it writes and deletes scratch files of the line's size on the main
 * thread and the pool, so the kernel has recently freed pages to hand out
 * on every CPU, as every free page is on a
 * machine without this VM's free page reporting; and each round it times a
 * reference per side: the same work over pages a file already holds, which
 * costs the warm rate however cold the free memory is.
 *
 * A write is cold when it cost more than its side's warm cost by
 * `COLD_FACTOR - 1` times our side's reference or more, and by at least
 * `COLD_MIN_EXTRA_MS`. A side's warm cost is the median rate of its
 * reference over the row (measured on the 10 MB rows, per 10 MB: ours
 * 2.2–3.3 ms against its reference's 2.1–3.1, the floor 17–24 against
 * 18–20). Before the references, each side was judged against its own
 * cheapest write: a row whose writes were all cold then looked warm (the
 * 10 MB row at 04:40, 0.90x, "none cold"). Ours is the copy alone
 * (`writev`), the floor's also encodes its string (`appendFileSync` of a
 * string), so each side has its own reference. The bench runs extra rounds
 * until it has as many rounds without a cold write on either side as asked,
 * and gives the ratio over those, over every round, and with each side's
 * write replaced by its reference.
 */
import { median } from './median.js';

/** A write's bytes and the CPU time it took (ms): main thread for a synchronous write, the pool's for a background one. */
export interface TimedWrite {
  bytes: number;
  cpuMs: number;
}

/** A cold write costs this many times the copy reference or more (measured: 9–14 times). */
export const COLD_FACTOR = 4;
/** And at least this much more than its side's warm cost (small writes vary by more than a factor). */
export const COLD_MIN_EXTRA_MS = 1;

const MB = 1e6;

const rate = (w: TimedWrite) => w.cpuMs / (w.bytes / MB);
const timed = (w: TimedWrite) => w.bytes > 0 && Number.isFinite(w.cpuMs);

/** The cheapest rate (ms per MB) among the writes given (NaN when none could be timed). */
export function cheapestMsPerMb(writes: readonly TimedWrite[]): number {
  let cheapest = NaN;
  for (const w of writes) if (timed(w) && !(rate(w) >= cheapest)) cheapest = rate(w);
  return cheapest;
}

/** The median rate (ms per MB) of the writes given (NaN when none). */
export function medianMsPerMb(writes: readonly TimedWrite[]): number {
  return median(writes.filter(timed).map(rate));
}

/**
 * Whether a write ran at the cold rate: over its side's warm cost (`warm`,
 * ms per MB) by `COLD_FACTOR - 1` times the copy's warm cost (`copy`, ms
 * per MB: our reference) and by `COLD_MIN_EXTRA_MS`. False when anything
 * is unknown.
 */
export function isColdWrite(write: TimedWrite, warm: number, copy: number): boolean {
  if (!Number.isFinite(write.cpuMs) || !Number.isFinite(warm) || !Number.isFinite(copy)) return false;
  const mb = write.bytes / MB;
  return write.cpuMs - warm * mb >= Math.max(COLD_MIN_EXTRA_MS, (COLD_FACTOR - 1) * copy * mb);
}

/** One round's two writes, and each side's reference: the same work over pages the file already holds (`page-cache-warm.ts`). */
export interface RoundWrites {
  /** The line's write alone (`writev`). */
  ours: TimedWrite;
  /** `appendFileSync` of the record's text: encoding and write. */
  floor: TimedWrite;
  /** As many bytes written over resident pages. */
  oursReference: TimedWrite;
  /** The floor's text written (`writeFileSync`, `r+`) over resident pages. */
  floorReference: TimedWrite;
}

export interface PageCacheSummary {
  /** The cheapest rate of our writes into the page cache in this row (ms per MB). */
  copyMsPerMb: number;
  /** The median rate of each side's reference (ms per MB): what a warm write costs in this run. */
  referenceMsPerMb: number;
  floorReferenceMsPerMb: number;
  /** Median rate of our cold writes, if any. */
  coldMsPerMb?: number;
  /** Rounds whose write ran at the cold rate, on each side. */
  coldOurs: number;
  coldFloor: number;
  /** Indices of the rounds with no cold write on either side. */
  warmRounds: number[];
}

/**
 * Each side's warm cost (ms per MB): the median rate of its reference,
 * which no cold streak reaches. The floor's reference varies by up to a
 * fifth from round to round (its encoding), so a median, not each round's.
 */
function warmRates(rounds: readonly RoundWrites[]): { ours: number; floor: number } {
  return { ours: medianMsPerMb(rounds.map((r) => r.oursReference)), floor: medianMsPerMb(rounds.map((r) => r.floorReference)) };
}

/** Which rounds ran cold, judged against `warm` (by default the rounds' own references). */
export function summarizeWrites(rounds: readonly RoundWrites[], warm = warmRates(rounds)): PageCacheSummary {
  const cold: TimedWrite[] = [];
  let coldOurs = 0;
  let coldFloor = 0;
  const warmRounds: number[] = [];
  rounds.forEach((round, i) => {
    const ours = isColdWrite(round.ours, warm.ours, warm.ours);
    const floor = isColdWrite(round.floor, warm.floor, warm.ours);
    if (ours) {
      coldOurs += 1;
      cold.push(round.ours);
    }
    if (floor) coldFloor += 1;
    if (!ours && !floor) warmRounds.push(i);
  });
  return {
    copyMsPerMb: cheapestMsPerMb(rounds.map((r) => r.ours)), referenceMsPerMb: warm.ours, floorReferenceMsPerMb: warm.floor,
    ...(cold.length ? { coldMsPerMb: medianMsPerMb(cold) } : {}), coldOurs, coldFloor, warmRounds,
  };
}

/** Medians of each side's per-round CPU, and their ratio. */
export interface RatioOfMedians {
  oursCpuMs: number;
  floorCpuMs: number;
  ratio: number;
}

/**
 * The ratio of medians with each side's write replaced by its reference of
 * the same round: `oursCpuMs[i]` and `floorCpuMs[i]` are round i's whole
 * costs, which include its writes.
 */
export function atReference(rounds: readonly RoundWrites[], oursCpuMs: readonly number[], floorCpuMs: readonly number[]): RatioOfMedians {
  const ours = median(rounds.map((r, i) => (oursCpuMs[i] ?? NaN) - r.ours.cpuMs + r.oursReference.cpuMs));
  const floor = median(rounds.map((r, i) => (floorCpuMs[i] ?? NaN) - r.floor.cpuMs + r.floorReference.cpuMs));
  return { oursCpuMs: ours, floorCpuMs: floor, ratio: ours / floor };
}

/**
 * A session's writes into the page cache: a growing file takes fresh
 * page-cache memory at every line, so on a VM either side may pay the
 * machine's cold-memory rate for any of them. Lines differ in size from
 * turn to turn, so no turn is left out: the ratio is also given with each
 * side's writes replaced by its references (each turn's, summed).
 */
export interface SessionWrites extends PageCacheSummary {
  /** CPU of all our line writes, and of all the floor's `appendFileSync` (encoding and write). */
  oursWriteMs: number;
  floorWriteMs: number;
  /** The same for the references. */
  oursReferenceMs: number;
  floorReferenceMs: number;
  megabytes: number;
  /** The session's ratio with each side's writes replaced by its references. */
  ratioAtReference: number;
}

export function sessionWrites(writes: readonly RoundWrites[], instrumentedCpuMs: number, floorCpuMs: number): SessionWrites | undefined {
  if (!writes.every((w) => Number.isFinite(w.ours.cpuMs) && Number.isFinite(w.floor.cpuMs))) return undefined;
  // Lines under a MB are judged too (their fixed costs are within COLD_MIN_EXTRA_MS), but set no warm rate.
  const large = writes.filter((w) => w.ours.bytes >= MB);
  const summary = summarizeWrites(writes, warmRates(large.length ? large : writes));
  const sums = { oursWriteMs: 0, floorWriteMs: 0, oursReferenceMs: 0, floorReferenceMs: 0, megabytes: 0 };
  for (const w of writes) {
    sums.oursWriteMs += w.ours.cpuMs;
    sums.floorWriteMs += w.floor.cpuMs;
    sums.oursReferenceMs += w.oursReference.cpuMs;
    sums.floorReferenceMs += w.floorReference.cpuMs;
    sums.megabytes += w.ours.bytes / MB;
  }
  const ours = instrumentedCpuMs - sums.oursWriteMs + sums.oursReferenceMs;
  const floor = floorCpuMs - sums.floorWriteMs + sums.floorReferenceMs;
  return { ...summary, ...sums, ratioAtReference: ours / floor };
}

/** What a row's ratio is taken over (`chooseRatioBasis`). */
export type RatioBasis = 'all rounds' | 'warm rounds' | 'reference writes';

/**
 * A large row's ratio is taken over its rounds without a cold write when at
 * least half the rounds asked for were such; else (a streak longer than the
 * extra rounds) over every round with each side's write at its reference.
 */
export function chooseRatioBasis(summary: PageCacheSummary, roundsAsked: number): RatioBasis {
  return 2 * summary.warmRounds.length >= roundsAsked ? 'warm rounds' : 'reference writes';
}

/** What `describeRowWrites` needs of a row's result. */
export interface RowWrites {
  pageCache: PageCacheSummary;
  roundCount: number;
  ratioBasis: RatioBasis;
  /** The ratio over every round as measured, and with each side's write at its reference. */
  allRoundsRatio: number;
  referenceRatio?: number;
}

/**
 * One line on a large row's page-cache writes: our cheapest rate, each
 * side's reference, how many rounds had a write at the machine's cold rate
 * (on which side), what the ratio printed above it was taken over, and the
 * ratio the other ways.
 */
export function describeRowWrites(r: RowWrites, prefaulted: boolean): string {
  const p = r.pageCache;
  const rates = `page cache${prefaulted ? ' (pre-faulted)' : ''}: our writes from ${p.copyMsPerMb.toFixed(2)} ms/MB;`
    + ` references (the same work over resident pages) ours ${p.referenceMsPerMb.toFixed(2)}, floor ${p.floorReferenceMsPerMb.toFixed(2)} ms/MB`;
  const atReferenceRate = r.referenceRatio === undefined ? '' : `${r.referenceRatio.toFixed(2)}x with each side's write at its reference`;
  const coldRounds = r.roundCount - p.warmRounds.length;
  if (coldRounds === 0) return `${rates}; none at the machine's cold-memory rate in ${r.roundCount} rounds; ${atReferenceRate}`;
  const oursCold = p.coldMsPerMb === undefined ? '' : ` at ${p.coldMsPerMb.toFixed(2)} ms/MB`;
  const which = `(ours ${p.coldOurs}${oursCold}, floor ${p.coldFloor}; bench/page-cache.ts)`;
  const allRounds = `${r.allRoundsRatio.toFixed(2)}x over all rounds as measured`;
  if (r.ratioBasis === 'reference writes') {
    const count = p.warmRounds.length === 0 ? `all ${r.roundCount} rounds` : `${coldRounds} of ${r.roundCount} rounds`;
    return `${rates}; ${count} had a write at the machine's cold-memory rate ${which}: ratio above with each side's write at its reference; ${allRounds}`;
  }
  return `${rates}; ${coldRounds} of ${r.roundCount} rounds had a write at the machine's cold-memory rate ${which}: ratio above over the ${p.warmRounds.length} others;`
    + ` ${allRounds}, ${atReferenceRate}`;
}
