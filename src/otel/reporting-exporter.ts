/**
 * Counts what an exporter delivered and lost, and says why it lost spans —
 * once per cause, and once more when exports work again — so a collector
 * that is down never floods the host's log and never goes unnoticed. The
 * official exporters log their failures at `diag` debug/info level only, if
 * at all; this is where a failed export becomes one warning line.
 */
import { diag } from '@opentelemetry/api';
import { CauseReporter } from '../base/cause-reporter.js';
import { EXPORT_SUCCESS, type ExportResultLike, type FinishedSpan, type SpanExporterLike } from '../trace/span-data.js';
import { exportFailureReason } from './export-failure.js';
import { exportOnce } from './size-guard.js';

export interface ExportCounts {
  /** Spans the receiver took. */
  exportedSpans: number;
  /** Spans in exports that failed (receiver down, rejected, timed out). */
  failedSpans: number;
  /** The first line of the latest failure, when the latest export failed. */
  lastError: string | undefined;
}

export interface ReportingExporterOptions {
  /** Where the exporter sends, as it may be printed (no credentials). */
  target: string;
  /** Where failures are reported, once per cause (default: diag warnings); `() => undefined` to stay silent. */
  log?: (message: string) => void;
}

export class ReportingExporter implements SpanExporterLike {
  readonly stats: ExportCounts = { exportedSpans: 0, failedSpans: 0, lastError: undefined };
  private readonly reporter: CauseReporter;

  constructor(private readonly inner: SpanExporterLike, private readonly options: ReportingExporterOptions) {
    this.reporter = new CauseReporter(options.log ?? ((message) => diag.warn(message)));
  }

  export(spans: FinishedSpan[], resultCallback: (result: ExportResultLike) => void): void {
    void exportOnce(this.inner, spans).then((result) => {
      this.count(spans.length, result);
      resultCallback(result);
    });
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  private count(spans: number, result: ExportResultLike): void {
    if (result.code === EXPORT_SUCCESS) {
      this.stats.exportedSpans += spans;
      this.stats.lastError = undefined;
      this.reporter.recoverAll(() => true, (n) => `moa-otel: OTLP export to ${this.options.target} works again after ${n} failed export${n === 1 ? '' : 's'}`);
      return;
    }
    this.stats.failedSpans += spans;
    const reason = exportFailureReason(result.error);
    this.stats.lastError = reason;
    this.reporter.fail(reason, `moa-otel: OTLP export to ${this.options.target} failed: ${reason}; ${spans} span${spans === 1 ? '' : 's'} lost (further failures of this kind are counted, not repeated). Turns go on`);
  }
}
