/**
 * The clock event-loop blocks are measured with: CPU time of the main thread.
 *
 * What a user feels is how long the main thread is kept from other work. Its
 * wall time says that only on an idle machine: under load it also counts the
 * time other processes held the core. `process.cpuUsage()` is no better in
 * the other direction: it is process-wide, so it adds the CPU of V8's
 * parallel GC and compiler threads and of libuv's pool, which run beside the
 * main thread (a block could show twice its wall time). The main thread's
 * own CPU time is neither inflated by the load nor by those threads.
 *
 * Two traps, both measured on Linux:
 * - the kernel brings a running thread's CPU time up to date only at
 *   scheduler events, so a plain read can lag by a whole tick (~4 ms: a
 *   1 ms block read as 0 or as 5 ms). Reading the process's usage first
 *   (`process.cpuUsage()`, getrusage(RUSAGE_SELF)) makes the kernel account
 *   the running thread up to now; after it the error is a few microseconds;
 * - `process.threadCpuUsage()` exists from Node 23.9 on; before, the same
 *   number is the first field of `/proc/thread-self/schedstat` (ns).
 * Elsewhere (no such file, older Node) the clock falls back to process CPU
 * and says so in its name.
 *
 * What this clock cannot see: time the main thread waits off the CPU inside
 * a block (a disk write that sleeps, a GC waiting for its helper threads).
 * The bench therefore also prints wall time, and attributes blocks to GC
 * from the runtime's own `gc` performance entries.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';

export interface BlockClock {
  /** What is measured, for the bench output. */
  readonly name: string;
  /** Milliseconds of CPU used so far by the clock's subject. */
  now(): number;
  close(): void;
}

type ThreadCpuUsage = () => NodeJS.CpuUsage;

export function mainThreadCpuClock(): BlockClock {
  const threadCpuUsage = (process as { threadCpuUsage?: ThreadCpuUsage }).threadCpuUsage;
  if (typeof threadCpuUsage === 'function') {
    return {
      name: 'main-thread CPU (process.threadCpuUsage)',
      now() {
        process.cpuUsage(); // brings the running thread's accounting up to now (see above)
        const used = threadCpuUsage.call(process);
        return (used.user + used.system) / 1000;
      },
      close() {},
    };
  }
  const fd = openSchedstat();
  if (fd !== undefined) {
    const buffer = Buffer.alloc(128);
    return {
      name: 'main-thread CPU (/proc/thread-self/schedstat)',
      now() {
        process.cpuUsage();
        const read = readSync(fd, buffer, 0, buffer.length, 0);
        const text = buffer.toString('latin1', 0, read);
        return Number(text.slice(0, text.indexOf(' '))) / 1e6;
      },
      close() {
        closeSync(fd);
      },
    };
  }
  return {
    name: 'process CPU (no per-thread clock here: includes V8 helper threads)',
    now() {
      const used = process.cpuUsage();
      return (used.user + used.system) / 1000;
    },
    close() {},
  };
}

function openSchedstat(): number | undefined {
  try {
    // Opened by the main thread, so "thread-self" names it for good; the fd is re-read at offset 0.
    return openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return undefined;
  }
}

/** CPU time (ms) used so far by the process's threads, by kind; undefined where threads cannot be told apart. */
export type ThreadCpu = Record<ThreadKind, number>;
export type ThreadKind = 'main' | 'pool' | 'v8' | 'other';

/**
 * Per-thread CPU from `/proc/self/task/<tid>/schedstat` (Linux), so that
 * process CPU can be split into the main thread, libuv's pool (background
 * writes) and V8's helpers (parallel GC, concurrent compilation). Threads
 * are named (`MainThread`, `libuv-worker`, `V8Worker`) from Node 22 on;
 * before, they are told apart by their creation order: main, the delayed-task
 * scheduler, the V8 workers (4 by default), the signal inspector, then
 * the pool's workers (made on first use, here by the module loader before
 * anything else), then any worker thread (tsx's loader: counted as other).
 */
export function threadCpu(): ThreadCpu | undefined {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  process.cpuUsage(); // brings the running thread's accounting up to now
  const out: ThreadCpu = { main: 0, pool: 0, v8: 0, other: 0 };
  for (const tid of tids) {
    const thread = threadOf(tid);
    if (!thread) continue;
    try {
      const read = readSync(thread.fd, schedstat, 0, schedstat.length, 0);
      const text = schedstat.toString('latin1', 0, read);
      out[thread.kind] += Number(text.slice(0, text.indexOf(' '))) / 1e6;
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/**
 * Minor page faults (a page mapped on first touch: zeroed, or found in the
 * page cache) taken so far by the process's threads, by kind, from
 * `/proc/self/task/<tid>/stat` (Linux); undefined elsewhere. Faults tell
 * fresh memory from reused memory: a write from buffers the pool thread has
 * to fault in costs it far more than the copy.
 */
export function threadFaults(): ThreadCpu | undefined {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  const out: ThreadCpu = { main: 0, pool: 0, v8: 0, other: 0 };
  for (const tid of tids) {
    const thread = threadOf(tid);
    if (!thread) continue;
    try {
      thread.statFd ??= openSync(`/proc/self/task/${tid}/stat`, 'r');
      const read = readSync(thread.statFd, statText, 0, statText.length, 0);
      const text = statText.toString('latin1', 0, read);
      // After the command name (in parentheses, may hold spaces): state is field 3, minflt field 10.
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      out[thread.kind] += Number(fields[7]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

export function threadFaultsSince(start: ThreadCpu | undefined): ThreadCpu | undefined {
  const now = threadFaults();
  if (!start || !now) return undefined;
  return { main: now.main - start.main, pool: now.pool - start.pool, v8: now.v8 - start.v8, other: now.other - start.other };
}

const statText = Buffer.alloc(1024);
const schedstat = Buffer.alloc(128);
/** Threads seen so far, their schedstat kept open: reading 20 files per snapshot by path cost a millisecond of the main thread's time. */
const threads = new Map<string, { fd: number; kind: ThreadKind; statFd?: number } | undefined>();
const V8_WORKERS = 4; // Node's default --v8-pool-size

function threadOf(tid: string): { fd: number; kind: ThreadKind; statFd?: number } | undefined {
  if (threads.has(tid)) return threads.get(tid);
  let thread: { fd: number; kind: ThreadKind; statFd?: number } | undefined;
  try {
    const comm = readFileSync(`/proc/self/task/${tid}/comm`, 'latin1').trim();
    let kind: ThreadKind;
    if (comm === 'MainThread' || Number(tid) === process.pid) kind = 'main';
    else if (comm.startsWith('libuv-worker')) kind = 'pool';
    else if (comm.startsWith('V8Worker')) kind = 'v8';
    else if (comm !== 'node') kind = 'other';
    else {
      // Node before 22: every thread is "node"; told apart by creation order (thread ids grow).
      const older = readdirSync('/proc/self/task').map(Number).filter((t) => t !== process.pid && t < Number(tid)).length;
      const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
      kind = older >= 1 && older <= V8_WORKERS ? 'v8' : older >= V8_WORKERS + 2 && older < V8_WORKERS + 2 + pool ? 'pool' : 'other';
    }
    thread = { fd: openSync(`/proc/self/task/${tid}/schedstat`, 'r'), kind };
  } catch {
    thread = undefined;
  }
  threads.set(tid, thread);
  return thread;
}

export function threadCpuSince(start: ThreadCpu | undefined): ThreadCpu | undefined {
  const now = threadCpu();
  if (!start || !now) return undefined;
  return { main: now.main - start.main, pool: now.pool - start.pool, v8: now.v8 - start.v8, other: now.other - start.other };
}
