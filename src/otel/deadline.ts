/**
 * Waiting on work that may never finish (a hung collector, an exporter that
 * never calls back) for at most a while. The timer is deliberately not
 * unref'd: `forceFlush()`/`shutdown()` are awaited by their caller, and a
 * process whose only pending work is an unref'd timer would exit in the
 * middle of that await, skipping the caller's next line.
 */

/** Resolves true when `work` settles within `millis`, false when time ran out first; never rejects. */
export function settleWithin(work: Promise<unknown>, millis: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.max(0, millis));
    const settle = () => {
      clearTimeout(timer);
      resolve(true);
    };
    work.then(settle, settle);
  });
}
