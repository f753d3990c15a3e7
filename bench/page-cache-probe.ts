/**
 * The machine's page cache alone, without moa-otel: how much CPU a 10 MB
 * write into a new file costs, write after write, while the kernel runs out
 * of recently freed memory to give; then the same after deleting those
 * files; and the same amount of fresh anonymous memory for comparison.
 * `node --import tsx bench/page-cache-probe.ts [files]` (default 40, so
 * 400 MB of page cache for a moment; every file is deleted at the end).
 *
 * On the VM this was measured on, the first writes (2 to 16 of them, as
 * other processes had freed memory lately) cost 2–3 ms, every later one
 * 15–24 ms (about 9 µs per 4 KiB page, with no page fault of the process),
 * and all of them 2 ms again once the files were deleted and written anew;
 * anonymous memory cost 5–6 ms per 10 MB throughout, faults included. That is
 * the cost the large rows of `npm run bench` see in streaks
 * (`page-cache.ts`).
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mainThreadCpuClock } from './block-clock.js';

const files = Math.max(1, Number(process.argv[2] ?? 40));
const clock = mainThreadCpuClock();
const dir = mkdtempSync(path.join(tmpdir(), 'moa-page-cache-'));
const source = Buffer.alloc(10_000_000, 'x');

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

const show = (ms: number[]) => ms.map((m) => m.toFixed(1)).join(' ');
try {
  const first = Array.from({ length: files }, (_, i) => timedWrite(`a${i}`));
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
  console.log(`CPU (${clock.name}), ms per 10 MB:`);
  console.log(`  into new files, kept:         ${show(first)}`);
  console.log(`  the same after deleting them: ${show(again)}`);
  console.log(`  into fresh anonymous memory:  ${show(anonymous)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  clock.close();
}
