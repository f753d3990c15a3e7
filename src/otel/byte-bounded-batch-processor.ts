/**
 * A batching span processor whose memory is bounded in bytes, not only in
 * spans. MoA spans carry whole conversations (a megabyte each is common):
 * a queue of 2,048 spans, the usual bound, holds gigabytes while the
 * collector is down. Here what waits for export — queued plus in flight —
 * stays under `maxQueueBytes` of estimated encoded size; when over, the
 * oldest spans are dropped first (newer turns matter more), counted, and
 * reported once, then once more when the queue has room again.
 *
 * It exports one batch at a time (at most `maxExportBatchSize` spans and
 * `maxExportBatchBytes` bytes), when a batch is full or after
 * `scheduledDelayMillis`, with tracing suppressed so the export's own HTTP
 * request is never traced. An export that takes longer than
 * `exportTimeoutMillis` is counted as failed and the next batch may go, but
 * its bytes count as in flight until the exporter calls back: the exporter
 * still holds those spans. `forceFlush()` and `shutdown()` never wait longer
 * than `exportTimeoutMillis`. It filters nothing: every span it is given is
 * queued (the caller decides which spans reach it).
 */
import { diag, type Context, type Span } from '@opentelemetry/api';
import { CauseReporter } from '../base/cause-reporter.js';
import { errorText } from '../base/errors.js';
import { EXPORT_FAILED, EXPORT_SUCCESS, type ExportResultLike, type FinishedSpan, type SpanExporterLike, type SpanProcessorLike } from '../trace/span-data.js';
import { settleWithin } from './deadline.js';
import { estimateSpanBytes } from './span-size.js';
import { SpanQueue } from './span-queue.js';
import { withTracingSuppressed } from './suppress-tracing.js';

const MIB = 1024 * 1024;

export interface ByteBoundedBatchOptions {
  /** Bound on the estimated encoded bytes waiting for export, queued and in flight (default 64 MiB). */
  maxQueueBytes?: number;
  /** Bound on the spans waiting (default 2048). */
  maxQueueSize?: number;
  /** Spans per export call (default 512). */
  maxExportBatchSize?: number;
  /** Estimated bytes per export call (default a quarter of maxQueueBytes), bounding what is in flight. */
  maxExportBatchBytes?: number;
  /** How long a span may wait for a batch to fill (default 5 s). */
  scheduledDelayMillis?: number;
  /** Longest wait for one export call, and for forceFlush()/shutdown() as a whole (default 30 s). */
  exportTimeoutMillis?: number;
  /** Where drops and hung exports are reported, once per cause (default: the OpenTelemetry diag logger, as warnings). */
  log?: (message: string) => void;
}

export interface BatchStats {
  droppedSpans: number;
  exportedSpans: number;
  failedSpans: number;
  exportCalls: number;
}

type Settings = Required<Omit<ByteBoundedBatchOptions, 'log'>>;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${String(value)}`);
  return Math.floor(value);
}

function settingsOf(options: ByteBoundedBatchOptions): Settings {
  const maxQueueBytes = positive('maxQueueBytes', options.maxQueueBytes, 64 * MIB);
  const maxQueueSize = positive('maxQueueSize', options.maxQueueSize, 2048);
  return {
    maxQueueBytes,
    maxQueueSize,
    maxExportBatchSize: Math.min(maxQueueSize, positive('maxExportBatchSize', options.maxExportBatchSize, 512)),
    maxExportBatchBytes: Math.min(maxQueueBytes, positive('maxExportBatchBytes', options.maxExportBatchBytes, Math.ceil(maxQueueBytes / 4))),
    scheduledDelayMillis: positive('scheduledDelayMillis', options.scheduledDelayMillis, 5_000),
    exportTimeoutMillis: positive('exportTimeoutMillis', options.exportTimeoutMillis, 30_000),
  };
}

const QUEUE_FULL = 'queue full';

export class ByteBoundedBatchSpanProcessor implements SpanProcessorLike {
  readonly stats: BatchStats = { droppedSpans: 0, exportedSpans: 0, failedSpans: 0, exportCalls: 0 };
  private readonly settings: Settings;
  private readonly reporter: CauseReporter;
  private readonly queue = new SpanQueue();
  /** Estimated bytes of every export the exporter has not called back yet, timed-out ones included. */
  private inFlightBytes = 0;
  private current: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private shuttingDown: Promise<void> | undefined;

  /** Throws (RangeError) only for a bound that is not a positive number. */
  constructor(private readonly exporter: SpanExporterLike, options: ByteBoundedBatchOptions = {}) {
    this.settings = settingsOf(options);
    this.reporter = new CauseReporter(options.log ?? ((message) => diag.warn(message)));
  }

  /** Spans and estimated bytes waiting (queued, not yet handed to the exporter). */
  get queued(): { spans: number; bytes: number } {
    return { spans: this.queue.length, bytes: this.queue.bytes };
  }

  onStart(_span: Span, _parentContext: Context): void {
    // Nothing to do until a span ends.
  }

  onEnd(span: FinishedSpan): void {
    if (this.shuttingDown !== undefined) return;
    let bytes: number;
    try {
      bytes = estimateSpanBytes(span);
    } catch {
      // Attributes a getter or proxy makes unreadable: the exporter will fail on them too, but not here.
      bytes = 1024;
    }
    const { maxQueueBytes, maxQueueSize } = this.settings;
    if (bytes > maxQueueBytes) {
      this.drop(1, `a span estimated at ${formatBytes(bytes)} is larger than the whole export queue (${formatBytes(maxQueueBytes)})`, 'span larger than queue');
      return;
    }
    this.queue.push(span, bytes);
    let dropped = 0;
    while (this.queue.length > 0 && (this.queue.length > maxQueueSize || this.queue.bytes + this.inFlightBytes > maxQueueBytes)) {
      this.queue.shift();
      dropped++;
    }
    if (dropped > 0) {
      this.drop(dropped, `the OTLP export queue is full (${maxQueueSize} spans or ${formatBytes(maxQueueBytes)}: the collector is unreachable or slower than the spans come)`, QUEUE_FULL);
    }
    if (this.queue.length >= this.settings.maxExportBatchSize || this.queue.bytes >= this.settings.maxExportBatchBytes) this.pump();
    else this.schedule();
  }

  /** Exports what is queued now; resolves within `exportTimeoutMillis` even when the collector hangs. */
  async forceFlush(): Promise<void> {
    const deadline = Date.now() + this.settings.exportTimeoutMillis;
    while (Date.now() < deadline) {
      if (this.current === undefined) this.pump();
      const running = this.current;
      if (running === undefined) break;
      await settleWithin(running, deadline - Date.now());
    }
    if (this.exporter.forceFlush) await settleWithin(this.callSafely(() => this.exporter.forceFlush?.()), deadline - Date.now());
  }

  /** Flushes (bounded as forceFlush), then shuts the exporter down (bounded too); later spans are ignored. */
  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      this.clearTimer();
      await this.forceFlush();
      let left = 0;
      while (this.queue.shift()) left++;
      if (left > 0) this.drop(left, 'the exporter did not finish before shutdown', 'shutdown');
      await settleWithin(this.callSafely(() => this.exporter.shutdown()), this.settings.exportTimeoutMillis);
    })();
    return this.shuttingDown;
  }

  private drop(count: number, why: string, cause: string): void {
    this.stats.droppedSpans += count;
    for (let i = 0; i < count; i++) {
      this.reporter.fail(cause, () => `moa-otel: dropping spans: ${why}. Turns go on; dropped spans are counted and reported when there is room again.`);
    }
  }

  private schedule(): void {
    if (this.timer !== undefined || this.current !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, this.settings.scheduledDelayMillis);
    // A pending batch must not keep the application alive; shutdown() flushes it.
    this.timer.unref?.();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Starts exporting the next batch unless one is in flight. */
  private pump(): void {
    if (this.current !== undefined || this.queue.length === 0) return;
    this.clearTimer();
    const batch = this.queue.take(this.settings.maxExportBatchSize, this.settings.maxExportBatchBytes);
    const bytes = batch.reduce((sum, item) => sum + item.bytes, 0);
    this.inFlightBytes += bytes;
    this.current = this.exportBatch(batch.map((item) => item.span), bytes).finally(() => {
      this.current = undefined;
      if (this.queue.length >= this.settings.maxExportBatchSize || this.queue.bytes >= this.settings.maxExportBatchBytes) this.pump();
      else if (this.queue.length > 0 && this.shuttingDown === undefined) this.schedule();
    });
  }

  /**
   * Resolves when the exporter calls back or the export timeout passes,
   * whichever is first. The batch's `bytes` leave `inFlightBytes` only when
   * the exporter calls back (or throws), however late.
   */
  private exportBatch(spans: FinishedSpan[], bytes: number): Promise<void> {
    this.stats.exportCalls++;
    return new Promise<void>((resolve) => {
      let finished = false;
      let answered = false;
      const onAnswer = (result: ExportResultLike) => {
        if (!answered) {
          answered = true;
          this.inFlightBytes -= bytes;
        }
        finish(result);
      };
      const finish = (result: ExportResultLike) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        if (result.code === EXPORT_SUCCESS) {
          this.stats.exportedSpans += spans.length;
          this.reporter.recover(QUEUE_FULL, (n) => `moa-otel: the OTLP export queue has room again; ${n} span${n === 1 ? ' was' : 's were'} dropped while it was full`);
          this.reporter.recover('export timeout', (n) => `moa-otel: the OTLP exporter answers again after ${n} timed-out export${n === 1 ? '' : 's'}`);
        } else {
          // The exporter reports its own failures; the processor only counts them.
          this.stats.failedSpans += spans.length;
        }
        resolve();
      };
      const timer = setTimeout(() => {
        this.reporter.fail('export timeout', `moa-otel: an OTLP export did not finish within ${this.settings.exportTimeoutMillis} ms; its spans are counted as failed`);
        finish({ code: EXPORT_FAILED });
      }, this.settings.exportTimeoutMillis);
      timer.unref?.();
      try {
        withTracingSuppressed(() => this.exporter.export(spans, onAnswer));
      } catch (error) {
        onAnswer({ code: EXPORT_FAILED, error: new Error(errorText(error)) });
      }
    });
  }

  /** Calls an exporter method that should return a promise, whatever it does instead. */
  private callSafely(call: () => Promise<void> | undefined): Promise<void> {
    try {
      return Promise.resolve(call()).catch(() => undefined);
    } catch {
      return Promise.resolve();
    }
  }
}

function formatBytes(bytes: number): string {
  return bytes >= MIB ? `${(bytes / MIB).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}
