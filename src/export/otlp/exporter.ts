/**
 * moa-otel's own OTLP/HTTP trace exporter: spans → size-guarded requests →
 * protobuf or JSON → POST with retries. It needs no OpenTelemetry SDK
 * package (an app's SDK of either major line can still host it, since it is
 * typed against the structural span and exporter shapes), never throws into
 * its caller, always calls back exactly once, and reports each kind of
 * failure once — and once more when exports work again.
 */
import { diag } from '@opentelemetry/api';
import { CauseReporter } from '../../base/cause-reporter.js';
import { errorText } from '../../base/errors.js';
import { EXPORT_FAILED, EXPORT_SUCCESS, type ExportResultLike, type FinishedSpan, type SpanExporterLike } from '../../trace/span-data.js';
import { checkedMaxExportBytes, planExportRequests, type ExportPlanOptions } from '../otlp-size-guard.js';
import { settleWithin } from './deadline.js';
import { otlpEncoding, type OtlpEncoding } from './encoding.js';
import { displayUrl, OtlpHttpSender, type OtlpCompression, type SendResult } from './http-sender.js';
import { DEFAULT_OTLP_PROTOCOL, type OtlpProtocol } from './protocol.js';
import type { RetryOptions } from './retry-policy.js';
import { SendReporter } from './send-reporter.js';

export const DEFAULT_EXPORT_TIMEOUT_MILLIS = 10_000;
export const DEFAULT_MAX_EXPORT_BYTES = 4 * 1024 * 1024;

export interface OtlpTraceExporterOptions {
  /** The full traces URL, e.g. http://localhost:4318/v1/traces. */
  url: string;
  /** Default http/protobuf (see `resolveOtlpProtocol` for the environment's choice). */
  protocol?: OtlpProtocol;
  headers?: Readonly<Record<string, string>>;
  /** Deadline for each export call — all its requests, retries and waits included (default 10 s). */
  timeoutMillis?: number;
  /** gzip the body (default none). */
  compression?: OtlpCompression;
  /** Largest request body before compression (default 4 MiB); bigger batches are split, oversized content shrunk. */
  maxExportBytes?: number;
  /** When false, message content attributes never leave the process (default true). */
  captureContent?: boolean;
  retry?: Partial<RetryOptions>;
  /** Where failures are reported, once per cause (default: the OpenTelemetry diag logger, as warnings). */
  log?: (message: string) => void;
}

/** Why an export failed; `reason` is the message without the "OTLP export to … failed" frame. */
export class OtlpExportError extends Error {
  override readonly name = 'OtlpExportError';
  constructor(readonly target: string, readonly reason: string) {
    super(`OTLP export to ${target} failed: ${reason}`);
  }
}

export interface OtlpExportStats {
  /** Spans the receiver took. */
  exportedSpans: number;
  /** Spans lost to failed requests. */
  failedSpans: number;
  /** Spans the receiver answered as rejected (partial success). */
  rejectedSpans: number;
  requests: number;
  failedRequests: number;
}

export class OtlpHttpTraceExporter implements SpanExporterLike {
  readonly stats: OtlpExportStats = { exportedSpans: 0, failedSpans: 0, rejectedSpans: 0, requests: 0, failedRequests: 0 };
  readonly protocol: OtlpProtocol;
  private readonly sender: OtlpHttpSender;
  private readonly encoding: OtlpEncoding;
  private readonly plan: ExportPlanOptions;
  private readonly sendReporter: SendReporter;
  private readonly timeoutMillis: number;
  private readonly target: string;
  private readonly inFlight = new Set<Promise<void>>();
  private isShutDown = false;

  /** Throws only for bad configuration (a URL that is not http(s), a non-positive limit). */
  constructor(options: OtlpTraceExporterOptions) {
    this.protocol = options.protocol ?? DEFAULT_OTLP_PROTOCOL;
    this.encoding = otlpEncoding(this.protocol);
    this.timeoutMillis = options.timeoutMillis ?? DEFAULT_EXPORT_TIMEOUT_MILLIS;
    const { url, headers, compression, retry } = options;
    this.sender = new OtlpHttpSender({ url, headers, compression, retry, timeoutMillis: this.timeoutMillis });
    this.target = displayUrl(this.sender.url);
    const log = options.log ?? ((message: string) => diag.warn(message));
    this.sendReporter = new SendReporter({ target: this.target, exportName: 'OTLP export', items: ['span', 'spans'], log });
    this.plan = {
      maxExportBytes: checkedMaxExportBytes(options.maxExportBytes ?? DEFAULT_MAX_EXPORT_BYTES),
      captureContent: options.captureContent ?? true,
      encoding: this.encoding,
      reporter: new CauseReporter(log),
    };
  }

  export(spans: FinishedSpan[], resultCallback: (result: ExportResultLike) => void): void {
    let called = false;
    const done = (result: ExportResultLike) => {
      if (called) return;
      called = true;
      try {
        resultCallback(result);
      } catch {
        // A throwing callback belongs to the caller; it must not turn into an unhandled rejection here.
      }
    };
    if (this.isShutDown) {
      done(this.failure('the exporter is shut down'));
      return;
    }
    const work = this.exportAll(spans).then(done, (error: unknown) => done(this.failure(`unexpected error: ${errorText(error)}`)));
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Resolves when every export started so far has finished, or after the timeout. */
  async forceFlush(): Promise<void> {
    await settleWithin(Promise.all([...this.inFlight]), this.timeoutMillis);
  }

  /** Stops taking exports, gives those in flight until their deadline, then aborts what is left. */
  async shutdown(): Promise<void> {
    if (this.isShutDown) return;
    this.isShutDown = true;
    await settleWithin(Promise.all([...this.inFlight]), this.timeoutMillis);
    this.sender.shutdown();
  }

  private async exportAll(spans: FinishedSpan[]): Promise<ExportResultLike> {
    // One deadline for the whole export call, however many requests the size guard made of it.
    const deadline = Date.now() + this.timeoutMillis;
    const requests = planExportRequests(spans, this.plan);
    let firstFailure: ExportResultLike | undefined;
    for (let i = 0; i < requests.length; i++) {
      const chunk = requests[i] as FinishedSpan[];
      if (chunk.length === 0) continue;
      const result = await this.sendChunk(chunk, deadline);
      if (result.ok) continue;
      firstFailure ??= this.failure(result.message);
      if (result.unavailable) {
        // The receiver is down or overloaded: the rest of the batch would only wait out the same deadline.
        const rest = requests.slice(i + 1).reduce((sum, c) => sum + c.length, 0);
        this.stats.failedSpans += rest;
        break;
      }
    }
    return firstFailure ?? { code: EXPORT_SUCCESS };
  }

  private async sendChunk(chunk: FinishedSpan[], deadline: number): Promise<{ ok: true } | { ok: false; message: string; unavailable: boolean }> {
    let result: SendResult;
    this.stats.requests += 1;
    try {
      result = await this.sender.send(this.encoding.encode(chunk), this.encoding.contentType, deadline);
    } catch (error) {
      result = { ok: false, attempts: 0, cause: 'encode', message: `could not encode the spans: ${errorText(error)}`, unavailable: false };
    }
    if (result.ok) {
      this.stats.exportedSpans += chunk.length - Math.min(chunk.length, result.rejectedItems);
      this.stats.rejectedSpans += result.rejectedItems;
      this.sendReporter.succeeded(result.rejectedItems, result.rejectionMessage);
      return { ok: true };
    }
    this.stats.failedRequests += 1;
    this.stats.failedSpans += chunk.length;
    this.sendReporter.failed(result.cause, result.message, () => `${this.sendReporter.count(chunk.length)} lost. Turns go on`);
    return { ok: false, message: result.message, unavailable: result.unavailable };
  }

  private failure(message: string): ExportResultLike {
    return { code: EXPORT_FAILED, error: new OtlpExportError(this.target, message) };
  }
}
