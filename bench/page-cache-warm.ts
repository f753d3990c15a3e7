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
 * With one scratch on the main thread and others on the pool at the same
 * time, so that every CPU frees some, it was cold once in 30. So the
 * scratch is written on the main thread and on one pool job per CPU.
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
import { closeSync, openSync, promises as fsp, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { BlockClock } from './block-clock.js';
import type { TimedWrite } from './page-cache.js';

/** Pool jobs writing a scratch beside the main thread's: one per CPU, so every CPU's list gets freed pages. */
export const POOL_SCRATCHES = availableParallelism();

/** Whether the large rows pre-fault (`BENCH_PREFAULT=off` turns it off, to see the machine's streaks). */
export const prefaultEnabled = process.env.BENCH_PREFAULT !== 'off';

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
  }

  /**
   * Writes and deletes scratch files of `lineBytes` each, on the main
   * thread and at the same time on `POOL_SCRATCHES` pool jobs, so the
   * kernel has just-freed pages to hand out on every CPU. Does nothing when
   * pre-faulting is off.
   */
  async prefault(lineBytes: number): Promise<void> {
    if (!prefaultEnabled || lineBytes <= 0) return;
    if (this.scratchBytes.length < lineBytes) this.scratchBytes = Buffer.alloc(lineBytes, 0x61);
    const bytes = this.scratchBytes.subarray(0, lineBytes);
    const onPool = Array.from({ length: POOL_SCRATCHES }, async (_, i) => {
      const file = `${this.scratch}-${i}`;
      await fsp.writeFile(file, bytes, { mode: 0o600 });
      await fsp.unlink(file);
    });
    const fd = openSync(this.scratch, 'w', 0o600);
    try {
      writeSync(fd, bytes);
    } finally {
      closeSync(fd);
      unlinkSync(this.scratch);
    }
    await Promise.all(onPool);
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
