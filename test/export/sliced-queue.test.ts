/**
 * The queue that finishes large lines across ticks: pieces of work between
 * pauses, one slice per macrotask, a background write holding the next job,
 * and everything written synchronously at shutdown.
 */
import { describe, expect, it } from 'vitest';
import { SlicedQueue, type Pause, type SlicedJob, type WriteMode } from '../../src/export/sliced-queue.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A job of `pieces` pieces that logs each piece with the macrotask it ran in. */
function job(name: string, pieces: number, log: string[], clock: { tick: number }, write?: (mode: WriteMode) => unknown): SlicedJob {
  return {
    *work(mode): Generator<Pause, unknown, undefined> {
      for (let i = 0; i < pieces; i++) {
        log.push(`${name}${i}@${clock.tick}`);
        yield 'step';
      }
      yield 'alone';
      log.push(`${name}:write@${clock.tick}`);
      return write?.(mode);
    },
  };
}

/** Counts macrotasks while `until` is false. */
async function ticking(clock: { tick: number }, until: () => boolean): Promise<void> {
  while (!until() && clock.tick < 1000) {
    await tick();
    clock.tick += 1;
  }
}

describe('SlicedQueue', () => {
  it('with a zero slice, runs one piece of work per macrotask, jobs in order', async () => {
    const log: string[] = [];
    const clock = { tick: 0 };
    const queue = new SlicedQueue(() => {}, 0);
    queue.add(job('a', 3, log, clock));
    queue.add(job('b', 1, log, clock));
    expect(log).toEqual([]); // nothing runs inside add()
    await ticking(clock, () => queue.idle);
    const ticks = log.map((entry) => Number(entry.split('@')[1]));
    expect(new Set(ticks).size).toBe(log.length);
    expect(log.map((entry) => entry.split('@')[0])).toEqual(['a0', 'a1', 'a2', 'a:write', 'b0', 'b:write']);
  });

  it('a job whose write went to the pool holds the next job until the write ends; whenIdle waits for it', async () => {
    const log: string[] = [];
    const clock = { tick: 0 };
    let endWrite!: () => void;
    const queue = new SlicedQueue();
    queue.add(job('a', 1, log, clock, () => new Promise<void>((resolve) => { endWrite = resolve; })));
    queue.add(job('b', 1, log, clock));
    let idle = false;
    void queue.whenIdle().then(() => { idle = true; });
    await ticking(clock, () => log.some((e) => e.startsWith('a:write')));
    for (let i = 0; i < 20; i++) await tick();
    expect(log.some((e) => e.startsWith('b'))).toBe(false);
    expect(queue.idle).toBe(false);
    endWrite();
    await queue.whenIdle();
    expect(idle).toBe(true);
    expect(log.map((entry) => entry.split('@')[0])).toEqual(['a0', 'a:write', 'b0', 'b:write']);
  });

  it('runAll finishes every job now, and tells their writes not to use the pool', () => {
    const log: string[] = [];
    const modes: boolean[] = [];
    const queue = new SlicedQueue();
    queue.add(job('a', 2, log, { tick: 0 }, (mode) => { modes.push(mode.background); }));
    queue.add(job('b', 2, log, { tick: 0 }, (mode) => { modes.push(mode.background); }));
    queue.runAll();
    expect(queue.idle).toBe(true);
    expect(log).toHaveLength(6);
    expect(modes).toEqual([false, false]);
  });

  it('a job that throws ends, and the next one still runs', async () => {
    const log: string[] = [];
    const queue = new SlicedQueue();
    queue.add({
      *work(): Generator<Pause, unknown, undefined> {
        yield 'step';
        throw new Error('boom');
      },
    });
    queue.add(job('b', 1, log, { tick: 0 }));
    await queue.whenIdle();
    expect(log.map((entry) => entry.split('@')[0])).toEqual(['b0', 'b:write']);
  });
});
