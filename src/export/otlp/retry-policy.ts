/**
 * When an OTLP/HTTP export is worth trying again, and after how long.
 * The OTLP specification names 429, 502, 503 and 504 as the retryable
 * answers (every other 4xx/5xx is final: the same body would fail the same
 * way) and asks clients to honour `Retry-After`; network errors are retried
 * too. Waits grow exponentially with jitter, so many processes whose
 * collector comes back do not all retry at the same instant.
 */

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

export interface RetryOptions {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  initialBackoffMillis: number;
  maxBackoffMillis: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 5, initialBackoffMillis: 1_000, maxBackoffMillis: 5_000 };

/** The wait before retry number `retry` (1 for the first retry): base·2^(retry−1), capped, then jittered to 50–100 %. */
export function backoffMillis(retry: number, options: RetryOptions, random: () => number): number {
  const base = Math.min(options.maxBackoffMillis, options.initialBackoffMillis * 2 ** Math.max(0, retry - 1));
  return Math.round(base * (0.5 + 0.5 * random()));
}

/**
 * `Retry-After` as milliseconds from `nowMillis`: either delay-seconds or an
 * HTTP-date. Undefined when absent or unreadable (the backoff applies then).
 */
export function retryAfterMillis(header: string | undefined, nowMillis: number): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMillis);
}
