/**
 * Which spans OTLP export ships; the JSONL files see every turn whatever this
 * decides (it wraps the export processor only).
 *
 *  - A trace whose parent was not sampled (the application's sampler said
 *    no) is not exported: moa-otel's provider records it anyway, for the file,
 *    and passes the parent's flags on, so the span context says so.
 *  - `ratio` keeps that share of traces, decided from the trace id alone so
 *    every process of a deployment keeps the same traces: the rule of the
 *    specification's TraceIdRatioBased sampler with W3C random trace ids — a
 *    trace is kept when the rightmost 56 bits of its id are at or above the
 *    threshold `(1 - ratio) × 2^56`.
 */
import { TraceFlags, type Context, type Span } from '@opentelemetry/api';
import type { FinishedSpan, SpanProcessorLike } from '../trace/span-data.js';

const RANDOM_BITS = 56n;
const RANDOM_RANGE = 1n << RANDOM_BITS;

/** The rejection threshold of a ratio in [0, 1], on the 56-bit scale. */
export function ratioThreshold(ratio: number): bigint {
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`a sampling ratio must be between 0 and 1, got ${String(ratio)}`);
  // Exact for the ratios people write (0.1, 0.25): scale in integers first.
  return RANDOM_RANGE - BigInt(Math.round(ratio * 2 ** 52)) * (RANDOM_RANGE / (1n << 52n));
}

/** Whether a trace id is kept at the threshold of `ratioThreshold`. */
export function traceIdKept(traceId: string, threshold: bigint): boolean {
  if (threshold <= 0n) return true;
  if (!/^[0-9a-f]{32}$/i.test(traceId)) return false;
  return BigInt(`0x${traceId.slice(18)}`) >= threshold;
}

export class SampledSpansOnly implements SpanProcessorLike {
  private readonly threshold: bigint;
  /** Spans left out of OTLP export: the parent was not sampled, or the ratio said no. */
  readonly stats = { notSampledSpans: 0 };

  constructor(private readonly inner: SpanProcessorLike, ratio = 1) {
    this.threshold = ratioThreshold(ratio);
  }

  onStart(span: Span, parentContext: Context): void {
    if (this.keeps(span.spanContext())) this.inner.onStart(span, parentContext);
  }

  onEnd(span: FinishedSpan): void {
    if (this.keeps(span.spanContext())) this.inner.onEnd(span);
    else this.stats.notSampledSpans++;
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  private keeps(context: { traceId: string; traceFlags: number }): boolean {
    return (context.traceFlags & TraceFlags.SAMPLED) !== 0 && traceIdKept(context.traceId, this.threshold);
  }
}
