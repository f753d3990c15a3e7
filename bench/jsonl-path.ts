/**
 * JSONL path cost on the workloads users have, against the floor of
 * `JSON.stringify` of the same record plus one `fs.appendFileSync`:
 *
 * - turns whose lines are about 10.8 KB, 105 KB, 1 MB and 10 MB. Every turn
 *   carries a conversation never seen before (nothing can be reused from an
 *   earlier turn), each reference gets its own array of its own message
 *   objects (equal content, distinct identity: what an agent's per-reference
 *   copy gives), and the text mixes Latin, CJK, emoji and Cyrillic;
 * - a growing session: 50 turns, +20 KB of conversation per turn, three
 *   references and the aggregator, the conversation's message objects carried
 *   from turn to turn as an agent appends to its history.
 *
 * Both sides run interleaved in one process; results are ratios of medians
 * (sums for the session). Each round runs two instrumented turns: one with
 * its blocks timed, one timed as a whole for the ratio (the block clock's
 * reads would otherwise be counted as the turn's cost). The longest event-loop block of a turn: each
 * synchronous instrumentation call is timed, and so is each tick the sink
 * uses to finish and write the line (`setImmediate` callbacks). Blocks are
 * measured in CPU time of the main thread (`block-clock.ts` says why: wall
 * time counts other processes, process CPU counts V8's helper threads) and
 * also given in wall time; the garbage collector's pauses inside the worst
 * block come from the runtime's `gc` performance entries.
 *
 * From the 1 MB row up, each side's write into the page cache is timed
 * apart: on a VM a write sometimes lands on memory the host must back again
 * and costs ten times as much, in streaks set by the whole machine
 * (`page-cache.ts` has the measurements). So before each side's write, the
 * bench writes and deletes scratch files of the line's size, untimed, on the
 * main thread and the pool, leaving recently freed pages for the write on
 * every CPU (`page-cache-warm.ts`), and
 * times a reference per side (the same work over resident pages). Rounds
 * still cold are counted and left out of the ratio (the ratio over all
 * rounds, and with each side's write at its reference, are given too);
 * each round's faults, CPU by thread and GC pauses are in `rounds`.
 */
import fs, { appendFileSync, closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { mainThreadCpuClock, threadCpu, threadCpuSince, threadFaults, threadFaultsSince, type ThreadCpu } from './block-clock.js';
import { setupMoaTracing, startMoaTurn, type ChatMessage } from './bench-deps.js';
import { conversation, mixedText as text } from './mixed-text.js';
import { median } from './median.js';
import { atReference, chooseRatioBasis, describeRowWrites, sessionWrites, summarizeWrites, type PageCacheSummary, type RatioBasis, type RoundWrites, type SessionWrites } from './page-cache.js';
import { PageCacheWarmer, prefaultEnabled, prefaultMethod } from './page-cache-warm.js';

export interface JsonlPathResult {
  label: string;
  lineBytes: number;
  /**
   * Process CPU (every thread: the pool's writes count) of an instrumented
   * turn and its flush, median over rounds (large rows: over the rounds
   * without a cold page-cache write, or with each side's write at its
   * reference: `ratioBasis`).
   */
  instrumentedCpuMs: number;
  /** Process CPU of the floor: JSON.stringify of the same record and one appendFileSync. */
  floorCpuMs: number;
  /** instrumentedCpuMs / floorCpuMs: the target's measure. */
  ratio: number;
  /** The same in wall time (a loaded machine inflates both sides, the instrumented one by its hops to the pool). */
  instrumentedMs: number;
  floorMs: number;
  wallRatio: number;
  /** Longest single event-loop block of one turn (median over rounds of each round's longest), wall time. */
  blockMs: number;
  /** The worst such block over all rounds, wall time. */
  worstBlockMs: number;
  /** The same two in CPU time of the main thread (`block-clock.ts`). */
  blockCpuMs: number;
  worstBlockCpuMs: number;
  /** Main-thread CPU of a whole turn, all its blocks together (median over rounds): what the agent's thread paid. */
  turnCpuMs: number;
  /** The worst block: what it was, and how much of its wall time the garbage collector paused the thread. */
  worstBlock: WorstBlock;
  /** Large rows: what each round's timed turn and floor write cost, in run order (where the time of a slow round went). */
  rounds: RoundCosts[];
  /**
   * The same ratio over every round run (`ratio` leaves out, in the large
   * rows, the rounds where either side's write into the page cache ran at
   * the machine's cold-memory rate: `page-cache.ts`).
   */
  allRoundsRatio: number;
  /** Large rows: the ratio over every round with each side's write replaced by its reference (`page-cache.ts`). */
  referenceRatio?: number;
  /**
   * What `ratio` is taken over: every round (small rows), the rounds without
   * a cold write, or (when fewer than half the rounds asked for were
   * without one) every round with each side's write at its reference.
   */
  ratioBasis: RatioBasis;
  roundCount: number;
  /** Large rows: the page-cache write rates and which rounds were cold. */
  pageCache?: PageCacheSummary;
}

/** One measured section's costs beyond its CPU total: the kernel's share, page faults, threads, collections. */
export interface SectionCost {
  cpuMs: number;
  userMs: number;
  systemMs: number;
  /** Page faults: minor (a fresh page mapped, zeroed), major (read from disk). */
  minorFaults: number;
  majorFaults: number;
  /** CPU by thread (main, libuv's pool, V8's helpers), where the platform tells threads apart. */
  threads?: ThreadCpu;
  /** Minor page faults by thread, the same way. */
  threadFaults?: ThreadCpu;
  /** GC pauses that started inside the section, by kind, in ms (main-thread pauses; helpers' work shows in `threads.v8`). */
  gc: Record<string, number>;
}

export interface RoundCosts {
  ours: SectionCost;
  floor: SectionCost;
}

export interface WorstBlock {
  /** The instrumentation call (`turn.end`, `reference.start`, …) or `tick` (the sink's own work). */
  label: string;
  cpuMs: number;
  wallMs: number;
  /** GC pauses that started inside the block, by kind (`scavenge`, `mark-compact`, …), in ms. */
  gc: Record<string, number>;
}

export interface GrowingSessionResult {
  turns: number;
  /** The ratio of every session run, in run order; the result is the run with the median ratio. */
  ratios: number[];
  /** Process CPU of all instrumented turns with their flushes, and of all floor writes; ratio = the first over the second. */
  instrumentedCpuMs: number;
  floorCpuMs: number;
  ratio: number;
  /** The same in wall time. */
  instrumentedMs: number;
  floorMs: number;
  wallRatio: number;
  jsonlBytes: number;
  compactBytes: number;
  /** JSONL file size over compact file size. */
  compactGain: number;
  worstBlockMs: number;
  worstBlockCpuMs: number;
  worstBlock: WorstBlock;
  lastLineBytes: number;
  /**
   * Main-thread CPU of all the instrumented turns (their blocks summed). The
   * instrumented time is wall time: on a loaded machine each hand-off to the
   * thread pool and back waits for the scheduler, which this does not count.
   */
  mainThreadCpuMs: number;
  /** Process CPU of the instrumented turns split by thread (main, libuv's pool, V8's helpers), where the platform tells threads apart. */
  instrumentedThreads?: ThreadCpu;
  /** The same for the floor's writes. */
  floorThreads?: ThreadCpu;
  /** Both sides' writes into the page cache, where the platform tells threads apart. */
  pageCache?: SessionWrites;
}

type Tracing = ReturnType<typeof setupMoaTracing>;

/** Per reference: its own system prompt and its own copies of the conversation's messages. */
function referenceArrays(history: readonly ChatMessage[], references: number): ChatMessage[][] {
  return Array.from({ length: references }, (_, r) => [
    { role: 'system', content: `You are reference advisor ${r}. Answer briefly.` },
    ...history.map((m) => ({ ...m })),
  ]);
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
/**
 * A few milliseconds for V8's helper threads to finish what the work before
 * set off (sweeping, concurrent marking of the harness's garbage), so that
 * the process CPU of a measured section is its own, not its predecessor's.
 */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 3));


/** The clock blocks are measured with; its name is printed with the results. */
export const blockClock = mainThreadCpuClock();

/** A synchronous section: what it was, when it started (performance.now), wall time, main-thread CPU time. */
interface Block { label: string; startMs: number; wallMs: number; cpuMs: number }

function timeBlock<T>(f: () => T, blocks: Block[], label = 'tick'): T {
  const cpu = blockClock.now();
  const t = performance.now();
  try {
    return f();
  } finally {
    const cpuMs = blockClock.now() - cpu;
    blocks.push({ label, startMs: t, wallMs: performance.now() - t, cpuMs });
  }
}

const GC_KINDS: Record<number, string> = { 1: 'scavenge', 2: 'minor-mark-sweep', 4: 'mark-compact', 8: 'incremental-marking', 16: 'weak-callbacks' };

/**
 * Collects the garbage collector's pauses (performance entries of type `gc`)
 * so that the worst block can be told apart: our own work, or a collection
 * that our allocations set off. Entries arrive a few ticks late, so blocks
 * are matched after the run.
 */
class GcPauses {
  private readonly entries: PerformanceEntry[] = [];
  private readonly observer = new PerformanceObserver((list) => { this.entries.push(...list.getEntries()); });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  async within(block: Block): Promise<Record<string, number>> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return this.between(block.startMs, block.startMs + block.wallMs);
  }

  /** Pauses that started in [from, to) (performance.now); entries come a few ticks late, so ask after the run. */
  between(from: number, to: number): Record<string, number> {
    const inside: Record<string, number> = {};
    for (const entry of this.entries) {
      if (entry.startTime < from || entry.startTime >= to) continue;
      const kind = GC_KINDS[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
      inside[kind] = (inside[kind] ?? 0) + entry.duration;
    }
    return inside;
  }

  stop(): void {
    this.observer.disconnect();
  }
}

async function describeWorst(block: Block | undefined, gc: GcPauses): Promise<WorstBlock> {
  if (!block) return { label: 'none', cpuMs: 0, wallMs: 0, gc: {} };
  return { label: block.label, cpuMs: block.cpuMs, wallMs: block.wallMs, gc: await gc.within(block) };
}

/** Where a measured section started: read before its CPU clock starts, so reading them is not counted in it. */
interface SectionStart { threads: ThreadCpu | undefined; faults: ThreadCpu | undefined; usage: NodeJS.ResourceUsage; at: number }

function sectionStart(): SectionStart {
  const faults = threadFaults();
  const threads = threadCpu();
  return { threads, faults, usage: process.resourceUsage(), at: performance.now() };
}

/** A section's costs, its GC pauses still to be matched (`GcPauses.between`) once their entries have come. */
function sectionEnd(start: SectionStart): SectionCost & { from: number; to: number } {
  const to = performance.now();
  const usage = process.resourceUsage();
  const threads = threadCpuSince(start.threads);
  const faults = threadFaultsSince(start.faults);
  const userMs = (usage.userCPUTime - start.usage.userCPUTime) / 1000;
  const systemMs = (usage.systemCPUTime - start.usage.systemCPUTime) / 1000;
  return {
    cpuMs: userMs + systemMs, userMs, systemMs,
    minorFaults: usage.minorPageFault - start.usage.minorPageFault, majorFaults: usage.majorPageFault - start.usage.majorPageFault,
    ...(threads ? { threads } : {}), ...(faults ? { threadFaults: faults } : {}), gc: {}, from: start.at, to,
  };
}

function withGc(section: SectionCost & { from: number; to: number }, gc: GcPauses): SectionCost {
  const { from, to, ...cost } = section;
  return { ...cost, gc: gc.between(from, to) };
}

/** Where the completion callbacks of background writes are timed, while a turn is measured. */
let writeCallbackBlocks: Block[] | undefined;

// The sink writes large lines with fs.writev on the thread pool; the callback
// that ends such a write runs on the main thread, so it is timed as a block
// too. The package imports `writev` by name: syncBuiltinESMExports makes that
// binding see the wrapper.
const originalWritev = fs.writev;
/**
 * Main-thread CPU spent in synchronous line writes (`writevSync`) so far,
 * counted only while `timeSyncWrites` is set (the large rows: two clock reads
 * per write would weigh on a 10 KB turn): with the pool thread's CPU, what
 * a turn's write into the page cache cost (`page-cache.ts`).
 */
let syncWriteCpuMs = 0;
let timeSyncWrites = false;
const originalWritevSync = fs.writevSync;
fs.writevSync = ((fd: number, buffers: readonly NodeJS.ArrayBufferView[], position?: number) => {
  if (!timeSyncWrites) return originalWritevSync(fd, buffers, position);
  const start = blockClock.now();
  try {
    return originalWritevSync(fd, buffers, position);
  } finally {
    syncWriteCpuMs += blockClock.now() - start;
  }
}) as typeof fs.writevSync;
fs.writev = ((fd: number, buffers: NodeJS.ArrayBufferView[], ...rest: unknown[]) => {
  const callback = rest.pop() as (...args: unknown[]) => void;
  const blocks = writeCallbackBlocks;
  const timed = blocks ? (...args: unknown[]) => timeBlock(() => callback(...args), blocks, 'write callback') : callback;
  return (originalWritev as (...args: unknown[]) => void)(fd, buffers, ...rest, timed);
}) as typeof fs.writev;
syncBuiltinESMExports();

/**
 * While `run` goes, every `setImmediate` callback (how the sink splits its
 * work across ticks) and every background write's callback is timed as a
 * block of its own.
 */
async function withTickBlocks<T>(blocks: Block[], run: () => Promise<T>): Promise<T> {
  const original = globalThis.setImmediate;
  const patched = ((callback: (...args: unknown[]) => void, ...args: unknown[]) => original(() => timeBlock(() => callback(...args), blocks))) as typeof setImmediate;
  globalThis.setImmediate = patched;
  writeCallbackBlocks = blocks;
  try {
    return await run();
  } finally {
    globalThis.setImmediate = original;
    writeCallbackBlocks = undefined;
  }
}

/**
 * One instrumented turn. An agent awaits the network between calls, so each
 * call is its own event-loop block; the bench times them one by one.
 */
function instrumentedTurn(tracing: Tracing, session: string, refs: ChatMessage[][], agg: ChatMessage[], output: string, blocks?: Block[]): void {
  // Without `blocks`, nothing is timed: the turn as the agent runs it.
  const timed = blocks ? <T>(label: string, f: () => T): T => timeBlock(f, blocks, label) : <T>(_label: string, f: () => T): T => f();
  const turn = timed('startMoaTurn', () => startMoaTurn({ sessionId: session, preset: 'bench', instrumentation: tracing.instrumentation }));
  refs.forEach((messages, index) => {
    const call = timed('startReference', () => turn.startReference({ index, model: `ref-${index}`, provider: 'local', messages }));
    timed('reference.end', () => call.end({ output, usage: { inputTokens: 1000, outputTokens: 100 }, cost: { usd: 0.001, status: 'estimated' } }));
  });
  const call = timed('startAggregator', () => turn.startAggregator({ model: 'agg', provider: 'local', messages: agg }));
  timed('aggregator.end', () => call.end({ output, usage: { inputTokens: 2000, outputTokens: 200 } }));
  timed('turn.end', () => turn.end());
}

/** Runs a turn, then lets the sink finish (its work may be split across ticks); total time and the longest block. */
/**
 * Process CPU since `start`, in ms: every thread's (the pool's writes, V8's
 * helpers) for both sides alike, and the issue's measure. `process.cpuUsage()`
 * is accurate to microseconds (it brings the kernel's count up to date).
 */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

async function measured(tracing: Tracing, turn: (blocks: Block[]) => void): Promise<{ ms: number; blockMs: number; blockCpuMs: number; cpuMs: number; longest: Block }> {
  const blocks: Block[] = [];
  const t = performance.now();
  await withTickBlocks(blocks, async () => {
    turn(blocks);
    await tracing.forceFlush();
  });
  const ms = performance.now() - t;
  const longest = blocks.reduce((a, b) => (b.cpuMs > a.cpuMs ? b : a));
  const cpuMs = blocks.reduce((sum, b) => sum + b.cpuMs, 0);
  return { ms, blockMs: Math.max(...blocks.map((b) => b.wallMs)), blockCpuMs: longest.cpuMs, cpuMs, longest };
}

/** Label, line bytes, rounds, and messages per conversation (default 20; one: a single message of megabytes, a tool's output). */
export type JsonlSize = [label: string, bytes: number, rounds: number, messages?: number];

const SIZES: JsonlSize[] = [
  ['10.8 KB', 9_700, 4000], ['105 KB', 96_300, 400], ['1 MB', 980_000, 40], ['10 MB', 9_930_000, 8], ['10 MB, one message', 9_930_000, 6, 1],
];

/** Rows from the 1 MB one up: each round's files are deleted, and each side's write is timed apart. */
const LARGE_ROW_BYTES = 900_000;

export async function runJsonlPathBench(sizes: JsonlSize[] = SIZES): Promise<JsonlPathResult[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'moa-bench-'));
  const tracing = setupMoaTracing({ save_traces: true, trace_dir: dir }, { env: {}, ignoreConfigFile: true, registerGlobal: false });
  const results: JsonlPathResult[] = [];
  const gc = new GcPauses();
  const warmer = new PageCacheWarmer(dir, blockClock);
  try {
    for (const [label, bytes, rounds, messages = 20] of sizes) {
      const name = label.replace(/[^A-Za-z0-9]/g, '_');
      // Three references and the aggregator each carry the conversation: about a
      // quarter of the line each. Mixed scripts average ~1.6 UTF-8 bytes per character.
      const chars = Math.max(300, Math.round(bytes / 4 / 1.55) - 400);
      const perMessage = Math.max(200, Math.ceil(chars / messages));
      const output = text(7, Math.min(2000, Math.max(100, Math.round(bytes / 100))));
      let seed = 0;
      const turnOf = () => {
        const history = conversation(++seed, chars, perMessage);
        const refs = referenceArrays(history, 3);
        const agg = [{ role: 'system', content: 'You are the acting model.' } as ChatMessage, ...history];
        return { refs, agg };
      };
      // The floor writes the very record the instrumented path produced.
      const probe = turnOf();
      instrumentedTurn(tracing, `probe-${name}`, probe.refs, probe.agg, output);
      await tracing.forceFlush();
      const lineText = readFileSync(path.join(dir, `probe-${name}.jsonl`), 'utf8').trimEnd();
      const record: unknown = JSON.parse(lineText);
      const lineBytes = Buffer.byteLength(lineText) + 1;
      const floorFile = path.join(dir, `floor-${name}.jsonl`);
      // Large rows (the 1 MB row and up) time each side's write into the page cache apart (`page-cache.ts`).
      const timeWrites = bytes >= LARGE_ROW_BYTES;
      // The floor's text, for its reference write (built once: the floor builds its own each round).
      const floorText = timeWrites ? `${JSON.stringify(record)}\n` : '';
      if (timeWrites) warmer.prepare(lineBytes);
      /** The floor's work; returns the main-thread CPU of its write alone (NaN when not timed). */
      const floor = (): number => {
        const line = `${JSON.stringify(record)}\n`;
        const start = timeWrites ? blockClock.now() : 0;
        appendFileSync(floorFile, line);
        return timeWrites ? blockClock.now() - start : NaN;
      };
      const a: number[] = [];
      const b: number[] = [];
      const aCpu: number[] = [];
      const bCpu: number[] = [];
      const blocks: number[] = [];
      const cpuBlocks: number[] = [];
      const turnCpu: number[] = [];
      const sections: Array<{ ours: SectionCost & { from: number; to: number }; floor: SectionCost & { from: number; to: number } }> = [];
      let worst: Block | undefined;
      for (let i = 0; i < 3; i++) {
        const warm = turnOf();
        instrumentedTurn(tracing, `warm-${name}`, warm.refs, warm.agg, output);
        await tracing.forceFlush();
        floor();
        await tick();
      }
      // Large rows: past `rounds`, more rounds (up to three times as many in all) until `rounds` of them
      // had no write at the machine's cold page-cache rate on either side (`page-cache.ts`).
      const writes: RoundWrites[] = [];
      const enoughWarmRounds = () => !timeWrites || summarizeWrites(writes).warmRounds.length >= rounds;
      for (let i = 0; i < rounds || (i < 3 * rounds && !enoughWarmRounds()); i++) {
        // Built untimed: the conversation is the agent's, not ours.
        const next = turnOf();
        const run = await measured(tracing, (turnBlocks) => instrumentedTurn(tracing, `run-${name}`, next.refs, next.agg, output, turnBlocks));
        await tick();
        // The ratio is timed on a turn of its own, without the block clock: reading it around every
        // call and tick costs microseconds per read, which a 10 KB turn would count against itself.
        const timedTurn = turnOf();
        // Untimed, the same for both sides: recently freed pages for the write to take (`page-cache-warm.ts`).
        if (timeWrites) await warmer.prefault(lineBytes);
        // Read before the section's CPU clock starts and after it stops: not counted in it.
        const oursStart = timeWrites ? sectionStart() : undefined;
        const syncWritesBefore = syncWriteCpuMs;
        timeSyncWrites = timeWrites;
        const cpuStart = process.cpuUsage();
        const started = performance.now();
        instrumentedTurn(tracing, `run-${name}`, timedTurn.refs, timedTurn.agg, output);
        await tracing.forceFlush();
        a.push(performance.now() - started);
        aCpu.push(cpuMsSince(cpuStart));
        timeSyncWrites = false;
        const ours = oursStart && sectionEnd(oursStart);
        blocks.push(run.blockMs);
        cpuBlocks.push(run.blockCpuMs);
        turnCpu.push(run.cpuMs);
        if (!worst || run.longest.cpuMs > worst.cpuMs) worst = run.longest;
        await tick();
        if (timeWrites) await warmer.prefault(lineBytes);
        const floorStart = timeWrites ? sectionStart() : undefined;
        const floorCpuStart = process.cpuUsage();
        const t = performance.now();
        const floorWriteMs = floor();
        b.push(performance.now() - t);
        bCpu.push(cpuMsSince(floorCpuStart));
        if (ours && floorStart) {
          sections.push({ ours, floor: sectionEnd(floorStart) });
          // Our write: synchronous ones on the main thread, a background one on the pool (the pool does nothing else here).
          const oursWriteMs = syncWriteCpuMs - syncWritesBefore + (ours.threads ? ours.threads.pool : NaN);
          writes.push({
            ours: { bytes: lineBytes, cpuMs: oursWriteMs }, floor: { bytes: lineBytes, cpuMs: floorWriteMs },
            oursReference: warmer.copyReference(lineBytes), floorReference: warmer.floorReference(floorText, lineBytes),
          });
        }
        await tick();
        // Keep both files small so the filesystem sees the same work on both sides.
        if (bytes >= LARGE_ROW_BYTES || i % 500 === 499) {
          rmSync(path.join(dir, `run-${name}.jsonl`), { force: true });
          rmSync(floorFile, { force: true });
        }
      }
      // Large rows: the ratio over the rounds where neither write ran at the cold page-cache rate; when too few
      // were left, over every round with each side's write at its reference (`page-cache.ts`).
      const pageCache = writes.length > 0 ? summarizeWrites(writes) : undefined;
      const reference = pageCache ? atReference(writes, aCpu, bCpu) : undefined;
      const ratioBasis = pageCache ? chooseRatioBasis(pageCache, rounds) : 'all rounds';
      const kept = ratioBasis === 'warm rounds' && pageCache ? pageCache.warmRounds : aCpu.map((_, i) => i);
      const pick = (values: number[]) => kept.map((i) => values[i] as number);
      const instrumentedMs = median(pick(a));
      const floorMs = median(pick(b));
      const measuredCpu = { oursCpuMs: median(pick(aCpu)), floorCpuMs: median(pick(bCpu)) };
      const { oursCpuMs: instrumentedCpuMs, floorCpuMs } = ratioBasis === 'reference writes' && reference ? reference : measuredCpu;
      const referenceRatio = reference?.ratio;
      results.push({
        label, lineBytes: Buffer.byteLength(lineText), instrumentedCpuMs, floorCpuMs, ratio: instrumentedCpuMs / floorCpuMs, ratioBasis,
        allRoundsRatio: median(aCpu) / median(bCpu), roundCount: aCpu.length,
        ...(pageCache ? { pageCache } : {}), ...(referenceRatio !== undefined ? { referenceRatio } : {}),
        instrumentedMs, floorMs, wallRatio: instrumentedMs / floorMs,
        blockMs: median(blocks), worstBlockMs: Math.max(...blocks), blockCpuMs: median(cpuBlocks), worstBlockCpuMs: Math.max(...cpuBlocks),
        turnCpuMs: median(turnCpu), worstBlock: await describeWorst(worst, gc),
        rounds: sections.map((round) => ({ ours: withGc(round.ours, gc), floor: withGc(round.floor, gc) })),
      });
    }
  } finally {
    gc.stop();
    warmer.close();
    await tracing.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/** How the large rows prepare each side's write, for the bench's header (`page-cache-warm.ts`). */
export async function pageCacheSetup(): Promise<string> {
  return prefaultEnabled
    ? `before each side's write (from 1 MB), untimed, a scratch file of the line's size is written and deleted ${await prefaultMethod()},`
      + ' so both sides write into recently freed page-cache memory wherever they run, as on a machine without this VM\'s free page reporting (bench/page-cache-warm.ts)'
    : 'BENCH_PREFAULT=off: writes take whatever page-cache memory the machine gives (cold streaks expected on this VM)';
}

/**
 * The growing session, run `repeats` times; the run with the median ratio is
 * returned, with every run's ratio. One session's process CPU swings by a
 * third from run to run (V8 compiling on its helper threads early on, the
 * kernel's page-cache work for 160 MB of lines, other processes), the
 * median of three much less.
 */
export async function runGrowingSessionBench(turns = 50, growChars = 20_000, references = 3, repeats = 3): Promise<GrowingSessionResult> {
  const runs: Array<Omit<GrowingSessionResult, 'ratios'>> = [];
  for (let i = 0; i < Math.max(1, repeats); i++) runs.push(await growingSessionOnce(turns, growChars, references));
  const byRatio = [...runs].sort((a, b) => a.ratio - b.ratio);
  return { ...(byRatio[Math.floor(byRatio.length / 2)] as Omit<GrowingSessionResult, 'ratios'>), ratios: runs.map((run) => run.ratio) };
}

/**
 * One growing session, in the seed format against the floor, and once more
 * in the compact format for its size on disk.
 */
async function growingSessionOnce(turns: number, growChars: number, references: number): Promise<Omit<GrowingSessionResult, 'ratios'>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'moa-bench-grow-'));
  const jsonl = setupMoaTracing({ save_traces: true, trace_dir: path.join(dir, 'jsonl') }, { env: {}, ignoreConfigFile: true, registerGlobal: false });
  const compact = setupMoaTracing({ save_traces: true, trace_dir: path.join(dir, 'compact'), trace_format: 'compact' } as Record<string, unknown>, { env: {}, ignoreConfigFile: true, registerGlobal: false });
  const timed = setupMoaTracing({ save_traces: true, trace_dir: path.join(dir, 'timed') }, { env: {}, ignoreConfigFile: true, registerGlobal: false });
  const floorFile = path.join(dir, 'floor.jsonl');
  const warmer = new PageCacheWarmer(dir, blockClock);
  let instrumentedMs = 0;
  let floorMs = 0;
  let instrumentedCpuMs = 0;
  let floorCpuMs = 0;
  let worstBlockMs = 0;
  let worstBlockCpuMs = 0;
  let mainThreadCpuMs = 0;
  let worst: Block | undefined;
  const gc = new GcPauses();
  let lastLineBytes = 0;
  let jsonlSize = 0;
  /** Each turn's two writes into the page cache (`page-cache.ts`). */
  const writes: RoundWrites[] = [];
  /** The last line read back, in memory reused from turn to turn. */
  let lastLine: Buffer = Buffer.alloc(0);
  let instrumentedThreads: ThreadCpu | undefined = { main: 0, pool: 0, v8: 0, other: 0 };
  let floorThreads: ThreadCpu | undefined = { main: 0, pool: 0, v8: 0, other: 0 };
  try {
    const history: ChatMessage[] = [];
    const output = text(3, 1500);
    for (let t = 0; t < turns; t++) {
      // The agent's history grows by appending: earlier message objects are kept.
      history.push(...conversation(t + 1, growChars, 2500));
      const refs = Array.from({ length: references }, (_, r) => [{ role: 'system', content: `You are reference advisor ${r}.` } as ChatMessage, ...history]);
      const agg = [{ role: 'system', content: 'You are the acting model.' } as ChatMessage, ...history];
      // Untimed, the same for both sides: recently freed pages for the line's write (`page-cache-warm.ts`),
      // as many as the last line's size calls for (this turn's is not known yet; it grows by a few per cent).
      await warmer.prefault(lastLineBytes);
      // Timed on a session of its own, without the block clock: reading that clock around every
      // call and tick costs CPU of its own, which the ratio would count against the turn.
      await settle();
      const threadsStart = threadCpu();
      const syncWritesBefore = syncWriteCpuMs;
      timeSyncWrites = true;
      const cpuStart = process.cpuUsage();
      const started = performance.now();
      instrumentedTurn(timed, 'grow', refs, agg, output);
      await timed.forceFlush();
      instrumentedMs += performance.now() - started;
      instrumentedCpuMs += cpuMsSince(cpuStart);
      timeSyncWrites = false;
      const turnThreads = threadCpuSince(threadsStart);
      instrumentedThreads = addThreads(instrumentedThreads, turnThreads);
      // The line's write: on the main thread below 1 MiB, on the pool above (`page-cache.ts`).
      const oursWriteMs = syncWriteCpuMs - syncWritesBefore + (turnThreads ? turnThreads.pool : NaN);
      await tick();
      const run = await measured(jsonl, (blocks) => instrumentedTurn(jsonl, 'grow', refs, agg, output, blocks));
      mainThreadCpuMs += run.cpuMs;
      worstBlockMs = Math.max(worstBlockMs, run.blockMs);
      worstBlockCpuMs = Math.max(worstBlockCpuMs, run.blockCpuMs);
      if (!worst || run.longest.cpuMs > worst.cpuMs) worst = run.longest;
      await tick();
      instrumentedTurn(compact, 'grow', refs, agg, output);
      await compact.forceFlush();
      await tick();
      // The floor writes the record just written, as JSON.stringify would (only the new line is read).
      const file = path.join(dir, 'jsonl', 'grow.jsonl');
      const size = statSync(file).size;
      const lineBytes = size - jsonlSize - 1;
      lastLine = readRangeInto(file, jsonlSize, size - 1, lastLine);
      jsonlSize = size;
      const previousLineBytes = lastLineBytes;
      lastLineBytes = lineBytes;
      // The floor serializes a record holding the agent's own message arrays, as a writer that dumps its record
      // does. Its other fields come from the line the sink wrote, parsed without its message arrays: a parsed
      // copy of megabytes of messages per turn would be garbage whose collection (V8's helper threads) lands
      // in either side's measured time.
      const record = JSON.parse(withoutMessageArrays(lastLine.subarray(0, lineBytes))) as { references: Array<{ input_messages: unknown }>; aggregator: { input_messages: unknown } };
      record.references.forEach((reference, i) => { reference.input_messages = refs[i]; });
      record.aggregator.input_messages = agg;
      // Same bytes as the instrumented line (checked where it costs no measured time: first and last turn).
      if ((t === 0 || t === turns - 1) && !Buffer.from(JSON.stringify(record)).equals(lastLine.subarray(0, lineBytes))) {
        throw new Error('bench: the floor\'s record does not serialize to the line the sink wrote');
      }
      await warmer.prefault(previousLineBytes);
      await settle();
      const floorThreadsStart = threadCpu();
      const floorCpuStart = process.cpuUsage();
      const floorStarted = performance.now();
      const floorLine = `${JSON.stringify(record)}\n`;
      const floorWriteStart = blockClock.now();
      appendFileSync(floorFile, floorLine);
      const floorWriteMs = blockClock.now() - floorWriteStart;
      floorMs += performance.now() - floorStarted;
      floorCpuMs += cpuMsSince(floorCpuStart);
      floorThreads = addThreads(floorThreads, threadCpuSince(floorThreadsStart));
      writes.push({
        ours: { bytes: lineBytes + 1, cpuMs: oursWriteMs }, floor: { bytes: lineBytes + 1, cpuMs: floorWriteMs },
        oursReference: warmer.copyReference(lineBytes + 1), floorReference: warmer.floorReference(floorLine, lineBytes + 1),
      });
      await tick();
    }
    const jsonlBytes = statSync(path.join(dir, 'jsonl', 'grow.jsonl')).size;
    const compactBytes = statSync(path.join(dir, 'compact', 'grow.jsonl')).size;
    const pageCache = sessionWrites(writes, instrumentedCpuMs, floorCpuMs);
    return {
      turns, instrumentedCpuMs, floorCpuMs, ratio: instrumentedCpuMs / floorCpuMs, instrumentedMs, floorMs, wallRatio: instrumentedMs / floorMs, jsonlBytes, compactBytes,
      ...(pageCache ? { pageCache } : {}),
      compactGain: jsonlBytes / compactBytes, worstBlockMs, worstBlockCpuMs, worstBlock: await describeWorst(worst, gc), lastLineBytes, mainThreadCpuMs,
      ...(instrumentedThreads ? { instrumentedThreads } : {}), ...(floorThreads ? { floorThreads } : {}),
    };
  } finally {
    gc.stop();
    warmer.close();
    await jsonl.shutdown();
    await timed.shutdown();
    await compact.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

function addThreads(sum: ThreadCpu | undefined, add: ThreadCpu | undefined): ThreadCpu | undefined {
  if (!sum || !add) return undefined;
  return { main: sum.main + add.main, pool: sum.pool + add.pool, v8: sum.v8 + add.v8, other: sum.other + add.other };
}

/** Bytes `from` to `to` of a file, in `into` when it is large enough (else in a larger buffer, returned). */
function readRangeInto(file: string, from: number, to: number, into: Buffer): Buffer {
  const buffer = into.length >= to - from ? into : Buffer.allocUnsafe(Math.max(to - from, 2 * into.length));
  const fd = openSync(file, 'r');
  try {
    let done = 0;
    while (done < to - from) done += readSync(fd, buffer, done, to - from - done, from + done);
    return buffer;
  } finally {
    closeSync(fd);
  }
}

const MESSAGES_KEY = Buffer.from('"input_messages":');

/** A record line's text with each `input_messages` array replaced by `[]` (a scan of the bytes: no string of the whole line). */
function withoutMessageArrays(line: Buffer): string {
  const parts: string[] = [];
  let from = 0;
  for (let at = line.indexOf(MESSAGES_KEY, from); at >= 0; at = line.indexOf(MESSAGES_KEY, from)) {
    const open = at + MESSAGES_KEY.length;
    parts.push(line.toString('utf8', from, open), '[]');
    from = endOfArray(line, open);
  }
  parts.push(line.toString('utf8', from));
  return parts.join('');
}

/** The index just past the JSON array that starts at `open` (strings and escapes skipped). */
function endOfArray(line: Buffer, open: number): number {
  let depth = 0;
  let inString = false;
  for (let i = open; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === 0x5c) i += 1; // backslash: the next byte is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) depth += 1;
    else if (c === 0x5d || c === 0x7d) {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
  }
  throw new Error('bench: unterminated message array in a record line');
}

/** One line on a large row's page-cache writes (`describeRowWrites`), or nothing for a small row. */
export function describePageCache(r: JsonlPathResult): string | undefined {
  return r.pageCache ? describeRowWrites({ ...r, pageCache: r.pageCache }, prefaultEnabled) : undefined;
}
