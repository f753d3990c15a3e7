/**
 * Collects and exports metrics every interval, on an unref'd timer: it
 * never keeps the process alive, and a process that exits without
 * `shutdown()` simply skips the last export. One export runs at a time; a
 * tick that finds one still running is skipped (the totals are cumulative,
 * so the next one carries everything). `forceFlush()` exports now;
 * `shutdown()` exports once more and stops. Neither takes longer than the
 * export timeout, and neither rejects.
 */
import { errorText } from '../../base/errors.js';
import { settleWithin } from '../otlp/deadline.js';
import { withTracingSuppressed } from '../otlp/suppress-tracing.js';
import type { ResourceMetricsData } from './metric-data.js';

export const DEFAULT_EXPORT_INTERVAL_MILLIS = 60_000;

/**
 * How long past an export's deadline `forceFlush`/`shutdown` still wait: the
 * sender gives up at the deadline itself and says why ("no answer within
 * …"); waiting a moment longer lets that reason be the one reported, rather
 * than the abort that shutdown would otherwise race it with.
 */
const SETTLE_GRACE_MILLIS = 50;

/** What the reader exports to (the OTLP/HTTP metrics exporter, or anything shaped like it). */
export interface MetricsExporterLike {
  readonly timeoutMillis: number;
  /** Resolves (never rejects) by `deadline`, epoch milliseconds. */
  export(data: ResourceMetricsData, deadline: number): Promise<boolean>;
  shutdown(): void;
}

export interface PeriodicMetricReaderOptions {
  collect: () => ResourceMetricsData;
  exporter: MetricsExporterLike;
  /** Default 60 s, as OTEL_METRIC_EXPORT_INTERVAL's default. */
  intervalMillis?: number;
  /** Told when collecting throws (a bug, never expected): the reader goes on. */
  onError?: (message: string) => void;
}

export class PeriodicMetricReader {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: PeriodicMetricReaderOptions) {
    const interval = options.intervalMillis ?? DEFAULT_EXPORT_INTERVAL_MILLIS;
    if (!(interval > 0)) throw new RangeError(`metrics export interval must be positive, got ${interval}`);
    this.timer = setInterval(() => {
      if (this.running === undefined) void this.exportNow(Date.now() + options.exporter.timeoutMillis);
    }, interval);
    // Metrics are never a reason for the process to stay up.
    this.timer.unref();
  }

  /** Exports what is recorded now, after an export in flight; resolves within the export timeout (and a moment). */
  async forceFlush(): Promise<void> {
    if (this.stopped) return;
    const timeout = this.options.exporter.timeoutMillis;
    await settleWithin(this.exportNow(Date.now() + timeout), timeout + SETTLE_GRACE_MILLIS);
  }

  /** Stops the timer, exports once more, and aborts whatever is still sending when the export timeout is up. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    const timeout = this.options.exporter.timeoutMillis;
    await settleWithin(this.exportNow(Date.now() + timeout), timeout + SETTLE_GRACE_MILLIS);
    this.options.exporter.shutdown();
  }

  /** Runs after the export in flight (if any), within the same deadline. */
  private exportNow(deadline: number): Promise<void> {
    const previous = this.running ?? Promise.resolve();
    const next = previous.then(() => this.exportOnce(deadline));
    this.running = next;
    void next.finally(() => {
      if (this.running === next) this.running = undefined;
    });
    return next;
  }

  private async exportOnce(deadline: number): Promise<void> {
    let data: ResourceMetricsData;
    try {
      data = this.options.collect();
    } catch (error) {
      this.options.onError?.(`moa-otel: collecting metrics failed: ${errorText(error)}`);
      return;
    }
    // The export's own HTTP request must not become a span of the application's HTTP instrumentation.
    await withTracingSuppressed(() => this.options.exporter.export(data, deadline));
  }
}
