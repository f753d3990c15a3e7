/**
 * The machine's page cache alone, without moa-otel: how much CPU a 10 MB
 * write into a new file costs, write after write, while the kernel runs out
 * of recently freed memory to give; what the large rows' reference (the
 * same bytes written over pages a file already holds) costs meanwhile; and
 * whether the large rows' pre-faulting (`page-cache-warm.ts`) makes new
 * writes warm again while the machine stays short of recently freed memory.
 * `node --import tsx bench/page-cache-probe.ts [files]` (default 40, so
 * 400 MB of page cache held for a moment, more in the pre-fault part; every
 * file is deleted at the end).
 *
 * On the VM this was measured on, the first writes (2 to 16 of them, as
 * other processes had freed memory lately) cost 2–3 ms, every later one
 * 15–27 ms (about 9 µs per 4 KiB page, with no page fault of the process),
 * while the reference stayed at 1–3.4 ms; all of them 2 ms again once the
 * files were deleted and written anew; anonymous memory cost 5–6 ms per
 * 10 MB throughout, faults included. That is the cost the large rows of
 * `npm run bench` see in streaks (`page-cache.ts`). With the files still
 * held (04:53 UTC, load 3.3), new files written on the pool were cold 19
 * times in 20; right after pre-faulting, 2 in 20 on the pool and 0 in 20
 * on the main thread.
 */
import { closeSync, mkdtempSync, openSync, promises as fsp, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mainThreadCpuClock, threadCpu, threadCpuSince } from './block-clock.js';
import { PageCacheWarmer } from './page-cache-warm.js';

const files = Math.max(1, Number(process.argv[2] ?? 40));
const clock = mainThreadCpuClock();
const dir = mkdtempSync(path.join(tmpdir(), 'moa-page-cache-'));
const source = Buffer.alloc(10_000_000, 'x');
const warmer = new PageCacheWarmer(dir, clock);

function timedWrite(name: string): number {
  const start = clock.now();
  const fd = openSync(path.join(dir, name), 'w', 0o600);
  try {
    writeSync(fd, source);
  } finally {
    closeSync(fd);
  }
  return clock.now() - start;
}

/** A write on libuv's pool, as the sink writes large lines: the pool thread's CPU (NaN where threads cannot be told apart). */
async function timedPoolWrite(name: string): Promise<number> {
  const file = await fsp.open(path.join(dir, name), 'w', 0o600);
  try {
    const start = threadCpu();
    await file.write(source);
    const used = threadCpuSince(start);
    return used ? used.pool : NaN;
  } finally {
    await file.close();
  }
}

const show = (ms: number[]) => ms.map((m) => m.toFixed(1)).join(' ');
try {
  warmer.prepare(source.length);
  const first: number[] = [];
  const reference: number[] = [];
  for (let i = 0; i < files; i++) {
    first.push(timedWrite(`a${i}`));
    reference.push(warmer.copyReference(source.length).cpuMs);
  }
  console.log(`CPU (${clock.name}; pool writes: the pool thread's CPU), ms per 10 MB:`);
  console.log(`  into new files, kept:                          ${show(first)}`);
  console.log(`  the reference meanwhile (over resident pages): ${show(reference)}`);
  // The files above are still held, so new page-cache memory stays scarce: does pre-faulting make new writes warm?
  const rounds = Math.min(files, 20);
  const poolWrites: number[] = [];
  const mainWrites: number[] = [];
  const noScratch: number[] = [];
  for (let i = 0; i < rounds; i++) {
    noScratch.push(await timedPoolWrite(`n${i}`));
    await warmer.prefault(source.length);
    poolWrites.push(await timedPoolWrite(`p${i}`));
    await warmer.prefault(source.length);
    mainWrites.push(timedWrite(`m${i}`));
  }
  console.log(`  still held, a new file on the pool:            ${show(noScratch)}`);
  console.log(`  the same just after pre-faulting:              ${show(poolWrites)}`);
  console.log(`  on the main thread, just after pre-faulting:   ${show(mainWrites)}`);
  for (let i = 0; i < files; i++) rmSync(path.join(dir, `a${i}`));
  const again = Array.from({ length: files }, (_, i) => timedWrite(`b${i}`));
  const anonymous: number[] = [];
  const kept: Buffer[] = [];
  for (let i = 0; i < files; i++) {
    const start = clock.now();
    const fresh = Buffer.allocUnsafeSlow(source.length);
    source.copy(fresh);
    anonymous.push(clock.now() - start);
    kept.push(fresh);
  }
  console.log(`  the first files deleted, new ones written:     ${show(again)}`);
  console.log(`  into fresh anonymous memory:                   ${show(anonymous)}`);
} finally {
  warmer.close();
  rmSync(dir, { recursive: true, force: true });
  clock.close();
}
