/**
 * Times of measurements and collections as `HrTime` ([seconds, nanoseconds]
 * since the epoch), the form the OTLP encoders take.
 */
import type { HrTime } from '@opentelemetry/api';

const NANOS_PER_MILLI = 1_000_000;

/** Epoch milliseconds, fractional or not, as HrTime. */
export function hrTimeOfMillis(millis: number): HrTime {
  const seconds = Math.floor(millis / 1000);
  const nanos = Math.min(999_999_999, Math.round((millis - seconds * 1000) * NANOS_PER_MILLI));
  return [seconds, nanos];
}

/** Now, to a fraction of a millisecond (the monotonic clock added to when it started). */
export function hrNow(): HrTime {
  return hrTimeOfMillis(performance.timeOrigin + performance.now());
}
