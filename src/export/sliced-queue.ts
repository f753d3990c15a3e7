/**
 * Runs line jobs in order, splitting large ones across event-loop ticks.
 *
 * Serializing the new messages of a 10 MB record takes tens of milliseconds:
 * done in one go when the turn ends, it would stall every other request of
 * the process that long. A job is a list of small steps (one message each)
 * and a finish (encode and write the line); the queue runs steps until its
 * time slice is used, then yields with `setImmediate`, and gives the finish a
 * slice of its own. Jobs finish in the order they were added, so lines of a
 * session keep their order. `runAll` does everything synchronously, for
 * shutdown and process exit.
 */

export interface SlicedJob {
  readonly steps: ReadonlyArray<() => void>;
  finish(): void;
}

/** Time one slice may take before the queue yields (ms). */
export const SLICE_MS = 1;

export class SlicedQueue {
  private readonly jobs: Array<{ job: SlicedJob; next: number }> = [];
  private scheduled = false;
  private waiters: Array<() => void> = [];

  constructor(private readonly onIdle: () => void = () => {}, private readonly sliceMs = SLICE_MS) {}

  get idle(): boolean {
    return this.jobs.length === 0;
  }

  add(job: SlicedJob): void {
    this.jobs.push({ job, next: 0 });
    this.schedule();
  }

  /** Resolves when every job added so far is finished. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Finishes every job now, in order. */
  runAll(): void {
    while (this.jobs.length > 0) {
      const head = this.jobs[0] as { job: SlicedJob; next: number };
      while (head.next < head.job.steps.length) this.step(head);
      this.jobs.shift();
      this.finish(head.job);
    }
    this.settled();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.slice();
    });
  }

  private slice(): void {
    const started = performance.now();
    const spent = () => performance.now() - started;
    while (this.jobs.length > 0) {
      const head = this.jobs[0] as { job: SlicedJob; next: number };
      while (head.next < head.job.steps.length) {
        this.step(head);
        if (spent() >= this.sliceMs) return this.schedule();
      }
      // Writing a large line is a block of its own: start it in a fresh slice unless this one has barely begun.
      if (spent() >= this.sliceMs / 4) return this.schedule();
      this.jobs.shift();
      this.finish(head.job);
    }
    this.settled();
  }

  private step(head: { job: SlicedJob; next: number }): void {
    const step = head.job.steps[head.next++] as () => void;
    try {
      step();
    } catch {
      // A step reports its own failures; one must never stop the queue.
    }
  }

  private finish(job: SlicedJob): void {
    try {
      job.finish();
    } catch {
      // As for steps: the job reports its own failures.
    }
  }

  private settled(): void {
    if (!this.idle) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
    this.onIdle();
  }
}
