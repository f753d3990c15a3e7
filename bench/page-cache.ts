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
 * Each side's write is judged against its own cheapest (a streak can make
 * cold writes the majority of a row, so the median is no reference): ours
 * is the copy alone (`writev`), the floor's also encodes its string
 * (`appendFileSync` of a string), so their costs differ. A write is cold
 * when it cost more than its side's cheapest by `COLD_FACTOR - 1` times our
 * cheapest copy or more, and by at least `COLD_MIN_EXTRA_MS`. The bench runs
 * extra rounds until it has as many rounds without a cold write on either
 * side as asked, and gives the ratio over those next to the one over every
 * round.
 */

/** A write's bytes and the CPU time it took (ms): main thread for a synchronous write, the pool's for a background one. */
export interface TimedWrite {
  bytes: number;
  cpuMs: number;
}

/** A cold write costs this many times the cheapest copy or more (measured: 9–14 times). */
export const COLD_FACTOR = 4;
/** And at least this much more than the cheapest (small writes vary by more than a factor). */
export const COLD_MIN_EXTRA_MS = 1;

const MB = 1e6;

/** The cheapest rate (ms per MB) among the writes given (NaN when none could be timed). */
export function cheapestMsPerMb(writes: readonly TimedWrite[]): number {
  let cheapest = NaN;
  for (const w of writes) {
    if (w.bytes <= 0 || !Number.isFinite(w.cpuMs)) continue;
    const rate = w.cpuMs / (w.bytes / MB);
    if (!(rate >= cheapest)) cheapest = rate;
  }
  return cheapest;
}

/** The median rate (ms per MB) of the writes given (NaN when none). */
export function medianMsPerMb(writes: readonly TimedWrite[]): number {
  const rates = writes.filter((w) => w.bytes > 0 && Number.isFinite(w.cpuMs)).map((w) => w.cpuMs / (w.bytes / MB)).sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)] ?? NaN;
}

/**
 * Whether a write ran at the cold rate: over its side's cheapest (`cheapest`,
 * ms per MB) by `COLD_FACTOR - 1` times our cheapest copy (`copy`, ms per
 * MB) and by `COLD_MIN_EXTRA_MS`. False when anything is unknown.
 */
export function isColdWrite(write: TimedWrite, cheapest: number, copy: number): boolean {
  if (!Number.isFinite(write.cpuMs) || !Number.isFinite(cheapest) || !Number.isFinite(copy)) return false;
  const mb = write.bytes / MB;
  return write.cpuMs - cheapest * mb >= Math.max(COLD_MIN_EXTRA_MS, (COLD_FACTOR - 1) * copy * mb);
}

/** One round's two writes. */
export interface RoundWrites {
  /** The line's write alone (`writev`). */
  ours: TimedWrite;
  /** `appendFileSync` of the record's text: encoding and write. */
  floor: TimedWrite;
}

export interface PageCacheSummary {
  /** The cheapest copy of a MB into the page cache in this row (our writes). */
  copyMsPerMb: number;
  /** Median rate of our cold writes, if any. */
  coldMsPerMb?: number;
  /** Rounds whose write ran at the cold rate, on each side. */
  coldOurs: number;
  coldFloor: number;
  /** Indices of the rounds with no cold write on either side. */
  warmRounds: number[];
}

export function summarizeWrites(rounds: readonly RoundWrites[]): PageCacheSummary {
  const copy = cheapestMsPerMb(rounds.map((r) => r.ours));
  const floorCheapest = cheapestMsPerMb(rounds.map((r) => r.floor));
  const cold: TimedWrite[] = [];
  let coldOurs = 0;
  let coldFloor = 0;
  const warmRounds: number[] = [];
  rounds.forEach((round, i) => {
    const ours = isColdWrite(round.ours, copy, copy);
    const floor = isColdWrite(round.floor, floorCheapest, copy);
    if (ours) {
      coldOurs += 1;
      cold.push(round.ours);
    }
    if (floor) coldFloor += 1;
    if (!ours && !floor) warmRounds.push(i);
  });
  return { copyMsPerMb: copy, ...(cold.length ? { coldMsPerMb: medianMsPerMb(cold) } : {}), coldOurs, coldFloor, warmRounds };
}

/**
 * A session's writes into the page cache: a growing file takes fresh
 * page-cache memory at every line, so on a VM either side may pay the
 * machine's cold-memory rate for any of them. Lines differ
 * in size from turn to turn, so no turn is left out: the ratio is also given
 * with each side's writes counted at its own usual rate of the session.
 */
export interface SessionWrites extends PageCacheSummary {
  /** CPU of all our line writes, and of all the floor's `appendFileSync` (encoding and write). */
  oursWriteMs: number;
  floorWriteMs: number;
  megabytes: number;
  /** Our usual rate: the median over our lines of a MB or more whose write was not cold. */
  oursUsualMsPerMb: number;
  /** The ratio with each side's writes counted at its usual rate (the same median, each side its own). */
  ratioAtUsualWrites: number;
}

export function sessionWrites(writes: readonly RoundWrites[], instrumentedCpuMs: number, floorCpuMs: number): SessionWrites | undefined {
  if (!writes.every((w) => Number.isFinite(w.ours.cpuMs) && Number.isFinite(w.floor.cpuMs))) return undefined;
  const summary = summarizeWrites(writes);
  const floorCheapest = cheapestMsPerMb(writes.map((w) => w.floor));
  let oursWriteMs = 0;
  let floorWriteMs = 0;
  let megabytes = 0;
  const warmOurs: TimedWrite[] = [];
  const warmFloor: TimedWrite[] = [];
  for (const w of writes) {
    oursWriteMs += w.ours.cpuMs;
    floorWriteMs += w.floor.cpuMs;
    megabytes += w.ours.bytes / 1e6;
    // The usual rate of each side: the median of its writes of a MB or more that were not cold (smaller ones are mostly fixed costs).
    if (w.ours.bytes < 1e6) continue;
    if (!isColdWrite(w.ours, summary.copyMsPerMb, summary.copyMsPerMb)) warmOurs.push(w.ours);
    if (!isColdWrite(w.floor, floorCheapest, summary.copyMsPerMb)) warmFloor.push(w.floor);
  }
  const oursRate = warmOurs.length ? medianMsPerMb(warmOurs) : summary.copyMsPerMb;
  const floorRate = warmFloor.length ? medianMsPerMb(warmFloor) : floorCheapest;
  const ours = instrumentedCpuMs - oursWriteMs + oursRate * megabytes;
  const floor = floorCpuMs - floorWriteMs + floorRate * megabytes;
  return { ...summary, oursWriteMs, floorWriteMs, megabytes, oursUsualMsPerMb: oursRate, ratioAtUsualWrites: ours / floor };
}
