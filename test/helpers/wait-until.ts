/**
 * Waiting for an event instead of sleeping a fixed time. A fixed sleep is a
 * guess at how long the event takes; on a loaded machine (CI runs two
 * suites on two shared cores) the guess is wrong now and then and the test
 * fails. Polling a condition with a generous bound passes as soon as the
 * event happens and fails, naming it, only when it never does.
 */
export interface WaitOptions {
  /** Give up after this long; far above the event's normal delay (default 15 s, under the 60 s test timeout). */
  timeoutMs?: number;
  /** Poll this often (default 10 ms). */
  intervalMs?: number;
  /** Extra context for the failure message (a child's stderr, say). */
  context?: () => string;
}

export async function waitUntil(condition: () => boolean, what: string, options: WaitOptions = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (!condition()) {
    if (Date.now() > deadline) {
      const context = options.context?.();
      throw new Error(`timed out waiting for ${what}${context ? `: ${context}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10));
  }
}
