/**
 * What one series of a metric keeps between collections, per aggregation:
 * a running sum (counters, up-down counters), the last value (gauges), or
 * an explicit-bucket histogram (count, sum, min, max, bucket counts).
 */
import type { HistogramPoint, NumberPoint } from './metric-data.js';

/** The OpenTelemetry SDK specification's default boundaries for explicit-bucket histograms. */
export const DEFAULT_HISTOGRAM_BOUNDARIES: readonly number[] = Object.freeze([0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000]);

type PointTimes = Pick<NumberPoint, 'attributes' | 'startTime' | 'time'>;

export interface Cell<P> {
  record(value: number): void;
  point(times: PointTimes): P;
}

export class SumCell implements Cell<NumberPoint> {
  private value = 0;

  record(value: number): void {
    this.value += value;
  }

  point(times: PointTimes): NumberPoint {
    return numberPoint(times, this.value);
  }
}

export class LastValueCell implements Cell<NumberPoint> {
  private value = 0;

  record(value: number): void {
    // -0 is recorded as 0: the wire and every reader treat zero as one value.
    this.value = value === 0 ? 0 : value;
  }

  point(times: PointTimes): NumberPoint {
    return numberPoint(times, this.value);
  }
}

export class HistogramCell implements Cell<HistogramPoint> {
  private readonly counts: number[];
  private count = 0;
  private sum = 0;
  private min = Infinity;
  private max = -Infinity;

  /** `boundaries` sorted ascending, finite, without repeats (see `histogramBoundaries`). */
  constructor(private readonly boundaries: readonly number[]) {
    this.counts = new Array<number>(boundaries.length + 1).fill(0);
  }

  record(measured: number): void {
    // -0 is recorded as 0: the wire and every reader treat zero as one value.
    const value = measured === 0 ? 0 : measured;
    this.count += 1;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    const bucket = firstBoundaryAtLeast(this.boundaries, value);
    this.counts[bucket] = (this.counts[bucket] ?? 0) + 1;
  }

  point(times: PointTimes): HistogramPoint {
    return {
      attributes: times.attributes, startTime: times.startTime, time: times.time,
      count: this.count, sum: this.sum, min: this.min, max: this.max, boundaries: this.boundaries, bucketCounts: this.counts.slice(),
    };
  }
}

/** Spelled out rather than spread: every point then has one shape, which keeps the encoders' reads fast. */
function numberPoint(times: PointTimes, value: number): NumberPoint {
  return { attributes: times.attributes, startTime: times.startTime, time: times.time, value };
}

/** Index of the first boundary >= value (upper bounds are inclusive), or boundaries.length. */
function firstBoundaryAtLeast(boundaries: readonly number[], value: number): number {
  let low = 0;
  let high = boundaries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((boundaries[middle] as number) < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The boundaries advice asks for, made usable: sorted, without repeats or
 * infinities (the buckets below the first and above the last bound exist
 * anyway), non-numbers dropped. The defaults when there is no advice.
 */
export function histogramBoundaries(advice: readonly unknown[] | undefined): readonly number[] {
  if (!Array.isArray(advice)) return DEFAULT_HISTOGRAM_BOUNDARIES;
  const finite = advice.filter((bound): bound is number => typeof bound === 'number' && Number.isFinite(bound));
  return Object.freeze([...new Set(finite)].sort((a, b) => a - b));
}
