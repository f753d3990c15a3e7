/**
 * Runs line jobs in order, splitting large ones across event-loop ticks.
 *
 * Serializing the new messages of a 10 MB record takes tens of milliseconds,
 * and copying its 10 MB into the page cache a few more: done in one go when
 * the turn ends, it would stall every other request of the process that long.
 * A job is a generator: it does a small piece of work (one message, one
 * megabyte of copying) between `yield`s, and the queue runs it until its time
 * slice is used, then yields the event loop with `setImmediate`. A job's last
 * piece may hand its write to the thread pool and return the promise of its
 * end: the queue waits for it before the next job, so jobs finish in the
 * order they were added and the lines of a session keep their order.
 * `runAll` does everything left synchronously, for shutdown and process exit.
 */

/**
 * Where a job may be paused: `step` after any small piece of work (the slice
 * ends there if its time is used); `alone` before a piece that is a block of
 * its own (encoding and writing a line), which then starts a fresh slice
 * unless this one has barely begun.
 */
export type Pause = 'step' | 'alone';

/** Whether a job may hand its write to the thread pool (false once shutdown or exit must write everything now). */
export interface WriteMode {
  readonly background: boolean;
}

export interface SlicedJob {
  /** The job's work; its return value is the promise of its background write, if it made one (anything else is ignored). */
  work(mode: WriteMode): Iterator<Pause, unknown, undefined>;
}

/**
 * Time one slice may take before the queue yields (ms). Half the smallest
 * block the sink may cause (1 ms for a 1 MB line): a slice stops at the first
 * pause past it, so it runs over by at most one piece of work.
 */
export const SLICE_MS = 0.5;

interface Running {
  job: SlicedJob;
  work?: Iterator<Pause, unknown, undefined>;
}

export class SlicedQueue {
  private readonly jobs: Running[] = [];
  private scheduled = false;
  /** The write of the job finished last, while it is on the thread pool. */
  private writing: Promise<unknown> | undefined;
  private waiters: Array<() => void> = [];
  private mode: { background: boolean } = { background: true };

  constructor(private readonly onIdle: () => void = () => {}, private readonly sliceMs = SLICE_MS) {}

  get idle(): boolean {
    return this.jobs.length === 0 && this.writing === undefined;
  }

  /** The background write in progress, if any (resolves when it is done, never rejects). */
  get writeInFlight(): Promise<unknown> | undefined {
    return this.writing;
  }

  add(job: SlicedJob): void {
    this.jobs.push({ job });
    this.schedule();
  }

  /** Resolves when every job added so far is finished. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Finishes every job now, in order, writing synchronously from here on. A
   * write already on the thread pool cannot be waited for here; once it has
   * begun, the kernel orders it before ours (each holds the file's lock
   * while it writes).
   */
  runAll(): void {
    this.mode.background = false;
    while (this.jobs.length > 0) {
      const head = this.jobs.shift() as Running;
      head.work ??= this.start(head.job);
      while (head.work && !this.advance(head.work).done);
    }
    this.settled();
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.slice();
    });
  }

  private slice(): void {
    if (this.writing) return; // its end schedules the next slice
    const started = performance.now();
    while (this.jobs.length > 0) {
      const head = this.jobs[0] as Running;
      head.work ??= this.start(head.job);
      for (;;) {
        const next = head.work ? this.advance(head.work) : { done: true as const, value: undefined };
        if (next.done) {
          this.jobs.shift();
          if (next.value instanceof Promise) return this.waitFor(next.value);
          if (this.jobs.length > 0 && performance.now() - started >= this.sliceMs) return this.schedule();
          break;
        }
        const spent = performance.now() - started;
        if (spent >= this.sliceMs || (next.value === 'alone' && spent >= this.sliceMs / 4)) return this.schedule();
      }
    }
    this.settled();
  }

  private start(job: SlicedJob): Iterator<Pause, unknown, undefined> | undefined {
    try {
      return job.work(this.mode);
    } catch {
      return undefined;
    }
  }

  /** One piece of a job's work. A job reports its own failures; one that throws is over, and never stops the queue. */
  private advance(work: Iterator<Pause, unknown, undefined>): IteratorResult<Pause, unknown> {
    try {
      return work.next();
    } catch {
      return { done: true, value: undefined };
    }
  }

  private waitFor(write: Promise<unknown>): void {
    this.writing = write.then(undefined, () => undefined).then(() => {
      this.writing = undefined;
      if (this.jobs.length > 0) this.schedule();
      else this.settled();
    });
  }

  private settled(): void {
    if (!this.idle) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
    this.onIdle();
  }
}
