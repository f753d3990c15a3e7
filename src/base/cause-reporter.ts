/**
 * Reports each cause of a degradation once, counts the rest, and says so
 * again when the cause clears ("works again after N failures"), so a problem
 * never floods the host's log and never goes silent for the life of the
 * process either. Where the text goes (usually the OpenTelemetry `diag`
 * logger) is the owner's choice.
 */
export class CauseReporter {
  readonly #failures = new Map<string, number>();

  constructor(private readonly log: (message: string) => void) {}

  /** Counts a failure of `cause`; the first one since the cause last cleared is logged. Returns whether it was logged. */
  fail(cause: string, message: string | (() => string)): boolean {
    const seen = this.#failures.get(cause) ?? 0;
    this.#failures.set(cause, seen + 1);
    if (seen > 0) return false;
    this.emit(typeof message === 'string' ? message : message());
    return true;
  }

  /** `cause` works again: logs once how many failures it had, then forgets it. */
  recover(cause: string, message: (failures: number) => string): void {
    const failures = this.#failures.get(cause);
    if (failures === undefined) return;
    this.#failures.delete(cause);
    this.emit(message(failures));
  }

  /**
   * Every failing cause that `matches` works again at once (one receiver
   * answering again clears "refused" and "503" alike): one line with the
   * failures of all of them, not one line per cause.
   */
  recoverAll(matches: (cause: string) => boolean, message: (failures: number) => string): void {
    let failures = 0;
    for (const [cause, count] of this.#failures) {
      if (!matches(cause)) continue;
      failures += count;
      this.#failures.delete(cause);
    }
    if (failures > 0) this.emit(message(failures));
  }

  /** Whether any cause is failing now (asked once per line written: no list made). */
  get anyFailing(): boolean {
    return this.#failures.size > 0;
  }

  /** Causes currently failing. */
  get failing(): string[] {
    return [...this.#failures.keys()];
  }

  private emit(message: string): void {
    try {
      this.log(message);
    } catch {
      // A broken logger must not turn a degradation into a failure.
    }
  }
}
