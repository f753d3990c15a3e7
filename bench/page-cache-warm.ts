/**
 * The file-system side of `page-cache.ts`: what the large rows do so that
 * both sides' writes land on memory a user's machine would have, and the
 * reference writes that say what a warm write costs in this very run.
 *
 * Pre-faulting. On this VM, page-cache memory the kernel freed recently is
 * cheap to write into, memory it freed long ago (and reported to the host)
 * is about 10 times dearer per page (`page-cache-probe.ts`). Writing a
 * scratch file and deleting it just before a measured write leaves that
 * many recently freed pages for the write to take: on bare metal or a VM
 * without free page reporting every free page is like that. Each side gets
 * the same scratch, untimed, right before its own write.
 *
 * Freed pages first go to a list of the CPU that freed them, and a write
 * takes pages from its own CPU's list: measured with 10 MB writes, a
 * scratch deleted on the main thread left a write on the same thread warm
 * 30 times in 30, but a write on libuv's pool (where our large lines go)
 * cold 15 times in 30 (a scratch of 4 or 8 times the size did no better).
 * One scratch on the main thread and one per CPU on the pool at the same
 * time did well on a quiet machine (cold once in 30) but not under load
 * (11 in 30 at load 3.4: the scheduler put the threads on one CPU). So the
 * scratch is written on each CPU in turn, the main thread pinned to it with
 * `taskset` for the moment and let loose again after: cold once in 30 in
 * the same run. `taskset` runs in a helper shell started once: a fork of
 * the bench itself write-protects all its pages, and our next 10 MB turn
 * then took 1,450 more page faults (+2 ms) than without. Where `taskset`
 * is missing (not Linux), the pool way is used.
 *
 * References. Overwriting pages a file already holds copies the bytes with
 * no page to allocate, so it costs the warm rate however cold the free
 * memory is (the probe shows it at 2 ms per 10 MB while appends run at
 * 26). Two are timed, one per side, each doing that side's work:
 * - ours writes bytes already encoded (`writev`), so its reference is a
 *   positioned write of as many bytes;
 * - the floor's `appendFileSync` encodes its string and writes it, so its
 *   reference is `writeFileSync` of the same string over the start of a
 *   file already that long (`r+`: opened without truncating).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, promises as fsp, readFileSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { BlockClock } from './block-clock.js';
import type { TimedWrite } from './page-cache.js';

/** Without `taskset`: pool jobs writing a scratch beside the main thread's, one per CPU. */
const POOL_SCRATCHES = availableParallelism();

/** Whether the large rows pre-fault (`BENCH_PREFAULT=off` turns it off, to see the machine's streaks). */
export const prefaultEnabled = process.env.BENCH_PREFAULT !== 'off';

/** `taskset`'s CPU list (`0-2,5`) as single CPUs; empty when it does not read as one. */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(',')) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!range) return [];
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    for (let cpu = from; cpu <= to; cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** Whether an executable of that name is on the PATH (looked for, not run: running it would fork the bench). */
function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Pins our main thread (its thread id is the process id) to CPUs on
 * request, through a shell started once that runs `taskset`.
 */
class MainThreadPinner {
  private readonly waiting: Array<(reply: string) => void> = [];

  private constructor(private readonly shell: ChildProcessByStdio<Writable, Readable, null>) {
    createInterface({ input: shell.stdout }).on('line', (reply) => {
      this.waiting.shift()?.(reply);
      if (this.waiting.length === 0) this.output.unref();
    });
    // Only a request waiting for its reply keeps the bench alive; the shell ends when its input closes with the bench.
    shell.unref();
    this.output.unref();
    (shell.stdin as Writable & { unref(): void }).unref();
  }

  private get output(): Readable & { ref(): void; unref(): void } {
    return this.shell.stdout as Readable & { ref(): void; unref(): void };
  }

  static start(): MainThreadPinner {
    const script = `while read -r cpus; do if taskset -c -p "$cpus" ${process.pid} >/dev/null 2>&1; then echo ok; else echo failed; fi; done`;
    return new MainThreadPinner(spawn('sh', ['-c', script], { stdio: ['pipe', 'pipe', 'ignore'] }));
  }

  /** Pins the main thread to `cpus` (a `taskset` list); false when that failed. */
  pin(cpus: string): Promise<boolean> {
    return new Promise((resolve) => {
      this.waiting.push((reply) => resolve(reply === 'ok'));
      this.output.ref();
      this.shell.stdin.write(`${cpus}\n`);
    });
  }
}

interface CpuSet { list: string; cpus: number[] }

/** The CPUs the main thread may run on, from the kernel (no process started), or undefined where it cannot tell. */
function mainThreadCpus(): CpuSet | undefined {
  try {
    const status = readFileSync(`/proc/self/task/${process.pid}/status`, 'latin1');
    const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1];
    const cpus = list === undefined ? [] : parseCpuList(list);
    return list !== undefined && cpus.length > 0 ? { list, cpus } : undefined;
  } catch {
    return undefined;
  }
}

/** How this process pre-faults: pinning to each CPU in turn, or (no `taskset`, one CPU) the pool way. */
type Spread = { kind: 'pinned'; set: CpuSet; pinner: MainThreadPinner } | { kind: 'one CPU' } | { kind: 'pool' };

let spread: Promise<Spread> | undefined;
/**
 * Decided once per process, when first needed (the shell is started then,
 * before anything is measured, and tried once: pinned to the CPUs the main
 * thread already has).
 */
function spreadOfScratch(): Promise<Spread> {
  spread ??= (async (): Promise<Spread> => {
    const set = mainThreadCpus();
    if (set && set.cpus.length === 1) return { kind: 'one CPU' };
    if (!set || !onPath('taskset')) return { kind: 'pool' };
    const pinner = MainThreadPinner.start();
    return (await pinner.pin(set.list)) ? { kind: 'pinned', set, pinner } : { kind: 'pool' };
  })();
  return spread;
}

/** How scratch files are spread over the CPUs in this process, for the bench's output. */
export async function prefaultMethod(): Promise<string> {
  const how = await spreadOfScratch();
  if (how.kind === 'pinned') return `on each of the ${how.set.cpus.length} CPUs in turn (the main thread pinned to it with taskset for the moment)`;
  if (how.kind === 'one CPU') return 'on the one CPU this process may use';
  return `on the main thread and ${POOL_SCRATCHES} pool jobs at once (no taskset here)`;
}

export class PageCacheWarmer {
  /** What scratch files are written from: as long as the longest line yet, reused. */
  private scratchBytes = Buffer.alloc(0);
  private readonly scratch: string;
  private readonly referenceFile: string;
  private readonly referenceFd: number;
  private referenceBytes = Buffer.alloc(0);

  constructor(dir: string, private readonly clock: BlockClock) {
    this.scratch = path.join(dir, 'page-cache-scratch');
    this.referenceFile = path.join(dir, 'page-cache-reference');
    this.referenceFd = openSync(this.referenceFile, 'w+', 0o600);
    // The helper shell is started now (a fork), before any round: the pages it write-protects fault in the warm-up.
    if (prefaultEnabled) void spreadOfScratch();
  }

  /**
   * Writes and deletes a scratch file of `lineBytes` on every CPU
   * (`prefaultMethod`), so the kernel has just-freed pages to hand out
   * wherever the write runs. Does nothing when pre-faulting is off.
   */
  async prefault(lineBytes: number): Promise<void> {
    if (!prefaultEnabled || lineBytes <= 0) return;
    if (this.scratchBytes.length < lineBytes) this.scratchBytes = Buffer.alloc(lineBytes, 0x61);
    const bytes = this.scratchBytes.subarray(0, lineBytes);
    const how = await spreadOfScratch();
    if (how.kind === 'pinned') {
      try {
        for (const cpu of how.set.cpus) {
          if (!(await how.pinner.pin(String(cpu)))) throw new Error(`bench: taskset could not pin the main thread to CPU ${cpu}`);
          this.scratchHere(bytes);
        }
      } finally {
        // Let loose again before anything is measured: a bench left pinned would measure something else.
        if (!(await how.pinner.pin(how.set.list))) throw new Error(`bench: taskset could not give the main thread back CPUs ${how.set.list}`);
      }
      return;
    }
    const onPool = how.kind === 'one CPU' ? [] : Array.from({ length: POOL_SCRATCHES }, async (_, i) => {
      const file = `${this.scratch}-${i}`;
      await fsp.writeFile(file, bytes, { mode: 0o600 });
      await fsp.unlink(file);
    });
    this.scratchHere(bytes);
    await Promise.all(onPool);
  }

  private scratchHere(bytes: Buffer): void {
    const fd = openSync(this.scratch, 'w', 0o600);
    try {
      writeSync(fd, bytes);
    } finally {
      closeSync(fd);
      unlinkSync(this.scratch);
    }
  }

  /**
   * Makes the reference file `bytes` long and resident (untimed): call once
   * per size before the timed references, so they only overwrite.
   */
  prepare(bytes: number): void {
    if (this.referenceBytes.length < bytes) this.referenceBytes = Buffer.alloc(bytes, 0x61);
    writeSync(this.referenceFd, this.referenceBytes, 0, bytes, 0);
  }

  /** The reference file is as long as the longest buffer prepared, so only a longer one needs preparing. */
  private ensure(bytes: number): void {
    if (this.referenceBytes.length < bytes) this.prepare(bytes);
  }

  /** Our side's reference: `bytes` written over resident pages (main-thread CPU). */
  copyReference(bytes: number): TimedWrite {
    this.ensure(bytes);
    const start = this.clock.now();
    writeSync(this.referenceFd, this.referenceBytes, 0, bytes, 0);
    return { bytes, cpuMs: this.clock.now() - start };
  }

  /** The floor's reference: its `appendFileSync` of `text`, over resident pages instead of new ones. */
  floorReference(text: string, bytes: number): TimedWrite {
    this.ensure(bytes);
    const start = this.clock.now();
    writeFileSync(this.referenceFile, text, { flag: 'r+' });
    return { bytes, cpuMs: this.clock.now() - start };
  }

  close(): void {
    closeSync(this.referenceFd);
    rmSync(this.referenceFile, { force: true });
    for (let i = 0; i < POOL_SCRATCHES; i++) rmSync(`${this.scratch}-${i}`, { force: true });
    rmSync(this.scratch, { force: true });
  }
}
