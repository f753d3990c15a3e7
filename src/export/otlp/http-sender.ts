/**
 * Sends one encoded OTLP request to a collector, retrying what the OTLP
 * specification calls retryable (429, 502, 503, 504, network errors) with
 * exponential backoff and jitter, honouring `Retry-After`, all within one
 * deadline per request. It never throws and never rejects: the result says
 * what happened, and the caller decides how to report it.
 */
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { errorText } from '../../base/errors.js';
import { PACKAGE_VERSION } from '../../base/version.js';
import { postOnce, type PostOutcome } from './http-post.js';
import { failureDetail, partialSuccessOf } from './response-body.js';
import { backoffMillis, DEFAULT_RETRY, RETRYABLE_STATUSES, retryAfterMillis, type RetryOptions } from './retry-policy.js';

const gzipAsync = promisify(gzip);

export type OtlpCompression = 'none' | 'gzip';

export interface OtlpHttpSenderOptions {
  /** The full URL of the signal (…/v1/traces, …/v1/metrics). */
  url: string;
  headers?: Readonly<Record<string, string>>;
  /** Deadline for one request, retries and waits included. */
  timeoutMillis: number;
  compression?: OtlpCompression;
  retry?: Partial<RetryOptions>;
  /** Jitter source, in [0, 1). */
  random?: () => number;
}

export type SendResult =
  | {
      ok: true;
      attempts: number;
      /** Items (spans, data points) the receiver answered as rejected (partial success). */
      rejectedItems: number;
      rejectionMessage: string;
    }
  | {
      ok: false;
      attempts: number;
      /** Stable text naming the kind of failure ("HTTP 503", "ECONNREFUSED", "timeout"): one report per cause. */
      cause: string;
      /** One line for a human; never holds the URL's credentials or header values. */
      message: string;
      /** The receiver was unavailable (network, timeout, 429/502/503/504) rather than refusing this body. */
      unavailable: boolean;
    };

/** The URL as it may appear in a message: no user info, no query (either may hold a key). */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

export class OtlpHttpSender {
  readonly url: URL;
  private readonly headers: Record<string, string>;
  private readonly timeoutMillis: number;
  private readonly compression: OtlpCompression;
  private readonly retry: RetryOptions;
  private readonly random: () => number;
  private readonly agent: http.Agent;
  private readonly shutdownController = new AbortController();

  /** Throws (a TypeError) only for a URL that is not http(s): configuration, not a send. */
  constructor(options: OtlpHttpSenderOptions) {
    this.url = new URL(options.url);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') {
      throw new TypeError(`OTLP endpoint must be an http(s) URL, got ${this.url.protocol}//…`);
    }
    this.headers = { ...options.headers, 'user-agent': `moa-otel/${PACKAGE_VERSION}` };
    this.timeoutMillis = options.timeoutMillis;
    this.compression = options.compression ?? 'none';
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.random = options.random ?? Math.random;
    // Keep-alive: a busy exporter reuses its connection instead of a handshake per batch.
    this.agent = this.url.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  /** `deadline` (epoch ms) bounds the request, retries and waits included; default now + timeoutMillis. */
  async send(body: Buffer, contentType: string, deadline = Date.now() + this.timeoutMillis): Promise<SendResult> {
    let payload = body;
    const headers: Record<string, string> = { ...this.headers, 'content-type': contentType };
    if (this.compression === 'gzip') {
      try {
        payload = await gzipAsync(body);
        headers['content-encoding'] = 'gzip';
      } catch (error) {
        return { ok: false, attempts: 0, cause: 'gzip', message: `could not gzip the request: ${errorText(error)}`, unavailable: false };
      }
    }
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - Date.now();
      const outcome: PostOutcome = remaining <= 0
        ? { kind: 'failed', code: 'TIMEOUT', message: `no answer within ${this.timeoutMillis} ms` }
        : await postOnce({ url: this.url, headers, body: payload, timeoutMillis: remaining, agent: this.agent, signal: this.shutdownController.signal });
      if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
        const partial = partialSuccessOf(outcome.body, String(outcome.headers['content-type'] ?? ''));
        return { ok: true, attempts: attempt, rejectedItems: partial?.rejectedItems ?? 0, rejectionMessage: partial?.errorMessage ?? '' };
      }
      const failure = describe(outcome, this.timeoutMillis);
      if (!failure.retryable || attempt >= this.retry.maxAttempts || this.shutdownController.signal.aborted) {
        return { ok: false, attempts: attempt, cause: failure.cause, message: failure.message, unavailable: failure.retryable };
      }
      const wait = failure.retryAfterMillis ?? backoffMillis(attempt, this.retry, this.random);
      if (Date.now() + wait >= deadline) {
        const why = failure.retryAfterMillis !== undefined ? `; the receiver asked to retry after ${Math.ceil(wait / 1000)} s, past the ${this.timeoutMillis} ms deadline` : '';
        return { ok: false, attempts: attempt, cause: failure.cause, message: `${failure.message}${why}`, unavailable: true };
      }
      await this.sleep(wait);
    }
  }

  /** Aborts requests in flight and waits between retries; later sends fail at once. */
  shutdown(): void {
    this.shutdownController.abort();
    this.agent.destroy();
  }

  private sleep(millis: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.shutdownController.signal;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, millis);
      timer.unref?.();
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

interface FailureFacts {
  cause: string;
  message: string;
  retryable: boolean;
  retryAfterMillis?: number;
}

function describe(outcome: PostOutcome, timeoutMillis: number): FailureFacts {
  if (outcome.kind === 'failed') {
    if (outcome.code === 'TIMEOUT') return { cause: 'timeout', message: `no answer within ${timeoutMillis} ms`, retryable: true };
    if (outcome.code === 'ABORTED') return { cause: 'shutdown', message: outcome.message, retryable: false };
    // Invalid header values and the like fail the same way every time.
    const retryable = !outcome.code.startsWith('ERR_INVALID') && outcome.code !== 'ERR_HTTP_INVALID_HEADER_VALUE';
    return { cause: outcome.code, message: `${outcome.code}: ${outcome.message}`, retryable };
  }
  const detail = failureDetail(outcome.body, String(outcome.headers['content-type'] ?? ''));
  const retryAfter = retryAfterMillis(headerText(outcome.headers['retry-after']), Date.now());
  return {
    cause: `HTTP ${outcome.status}`,
    message: `HTTP ${outcome.status}${hint(outcome.status)}${detail !== '' ? `: ${detail}` : ''}`,
    retryable: RETRYABLE_STATUSES.has(outcome.status),
    ...(retryAfter !== undefined ? { retryAfterMillis: retryAfter } : {}),
  };
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** What the status most likely means for an OTLP exporter. */
function hint(status: number): string {
  if (status === 413) return ' (request too large for the receiver: lower otlp.max_export_bytes)';
  if (status === 415) return ' (the receiver does not take this encoding: set OTEL_EXPORTER_OTLP_PROTOCOL)';
  if (status === 401 || status === 403) return ' (check the OTLP headers)';
  return '';
}
