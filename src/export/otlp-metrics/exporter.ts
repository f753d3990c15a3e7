/**
 * Sends one collection of metrics to an OTLP/HTTP receiver (protobuf or
 * JSON) with the trace exporter's sender: retries with backoff within one
 * deadline, failures reported once per cause and once more on recovery.
 * It never throws and never rejects. A failed export loses nothing that
 * matters: the totals are cumulative, so the next export carries them.
 */
import { diag } from '@opentelemetry/api';
import { errorText } from '../../base/errors.js';
import { displayUrl, OtlpHttpSender, type OtlpCompression, type SendResult } from '../otlp/http-sender.js';
import { DEFAULT_OTLP_PROTOCOL, OTLP_CONTENT_TYPES, type OtlpProtocol } from '../otlp/protocol.js';
import type { RetryOptions } from '../otlp/retry-policy.js';
import { SendReporter } from '../otlp/send-reporter.js';
import { encodeJsonMetricsRequest } from './json-encoder.js';
import { pointCount, type ResourceMetricsData } from './metric-data.js';
import { encodeProtobufMetricsRequest } from './protobuf-encoder.js';

export interface OtlpMetricsExporterOptions {
  /** The full metrics URL, e.g. http://localhost:4318/v1/metrics. */
  url: string;
  /** Default http/protobuf. */
  protocol?: OtlpProtocol;
  headers?: Readonly<Record<string, string>>;
  /** Deadline for one export when the caller gives none (default 10 s). */
  timeoutMillis?: number;
  compression?: OtlpCompression;
  retry?: Partial<RetryOptions>;
  /** Where failures are reported, once per cause (default: the OpenTelemetry diag logger, as warnings). */
  log?: (message: string) => void;
}

export interface OtlpMetricsExportStats {
  /** Requests the receiver took. */
  exports: number;
  /** Requests that failed (after their retries). */
  failedExports: number;
  /** Data points the receiver answered as rejected (partial success). */
  rejectedDataPoints: number;
}

export const DEFAULT_METRICS_EXPORT_TIMEOUT_MILLIS = 10_000;

export class OtlpHttpMetricsExporter {
  readonly stats: OtlpMetricsExportStats = { exports: 0, failedExports: 0, rejectedDataPoints: 0 };
  readonly protocol: OtlpProtocol;
  /** The URL as it may be shown (no credentials, no query). */
  readonly target: string;
  readonly timeoutMillis: number;
  private readonly sender: OtlpHttpSender;
  private readonly reporter: SendReporter;

  /** Throws only for bad configuration (a URL that is not http(s)). */
  constructor(options: OtlpMetricsExporterOptions) {
    this.protocol = options.protocol ?? DEFAULT_OTLP_PROTOCOL;
    this.timeoutMillis = options.timeoutMillis ?? DEFAULT_METRICS_EXPORT_TIMEOUT_MILLIS;
    const { url, headers, compression, retry } = options;
    this.sender = new OtlpHttpSender({ url, headers, compression, retry, timeoutMillis: this.timeoutMillis });
    this.target = displayUrl(this.sender.url);
    this.reporter = new SendReporter({
      target: this.target, exportName: 'OTLP metrics export', items: ['data point', 'data points'], log: options.log ?? ((message: string) => diag.warn(message)),
    });
  }

  /** Sends `data` unless it holds no metric; resolves whether the receiver took it, by `deadline` (epoch ms) at the latest. */
  async export(data: ResourceMetricsData, deadline = Date.now() + this.timeoutMillis): Promise<boolean> {
    if (data.scopeMetrics.length === 0) return true;
    let result: SendResult;
    try {
      const body = this.protocol === 'http/json' ? encodeJsonMetricsRequest(data) : encodeProtobufMetricsRequest(data);
      result = await this.sender.send(body, OTLP_CONTENT_TYPES[this.protocol], deadline);
    } catch (error) {
      result = { ok: false, attempts: 0, cause: 'encode', message: `could not encode the metrics: ${errorText(error)}`, unavailable: false };
    }
    if (result.ok) {
      this.stats.exports += 1;
      this.stats.rejectedDataPoints += result.rejectedItems;
      this.reporter.succeeded(result.rejectedItems, result.rejectionMessage);
      return true;
    }
    this.stats.failedExports += 1;
    this.reporter.failed(result.cause, result.message, () => `the totals of ${this.reporter.count(pointCount(data))} go with the next export`);
    return false;
  }

  /** Aborts a request in flight and any wait between retries; later exports fail at once. */
  shutdown(): void {
    this.sender.shutdown();
  }
}
