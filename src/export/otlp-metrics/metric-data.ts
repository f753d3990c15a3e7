/**
 * Collected metrics, as the encoders read them: one resource, its meters'
 * scopes, each scope's metrics with their points. Always cumulative: every
 * collection reports the totals since a series began, so an export that
 * fails loses nothing — the next one carries it.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { ResourceFields, ScopeFields } from '../otlp/common-proto.js';

export interface MetricDescriptor {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  /** Points are written as `as_int` for 'int' instruments, `as_double` otherwise (histograms are always doubles). */
  readonly valueType: 'int' | 'double';
}

interface PointTimes {
  readonly attributes: Attributes;
  /** When the series began (its first measurement). */
  readonly startTime: HrTime;
  /** When it was collected. */
  readonly time: HrTime;
}

export interface NumberPoint extends PointTimes {
  readonly value: number;
}

export interface HistogramPoint extends PointTimes {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** Upper bounds, inclusive: bucket i counts values in (boundaries[i-1], boundaries[i]]. */
  readonly boundaries: readonly number[];
  /** One more than the boundaries: the last bucket counts values above the last bound. */
  readonly bucketCounts: readonly number[];
}

export type MetricData =
  | { readonly kind: 'sum'; readonly descriptor: MetricDescriptor; readonly monotonic: boolean; readonly points: readonly NumberPoint[] }
  | { readonly kind: 'gauge'; readonly descriptor: MetricDescriptor; readonly points: readonly NumberPoint[] }
  | { readonly kind: 'histogram'; readonly descriptor: MetricDescriptor; readonly points: readonly HistogramPoint[] };

export interface ScopeMetricsData {
  readonly scope: ScopeFields;
  readonly metrics: readonly MetricData[];
}

export interface ResourceMetricsData {
  readonly resource: ResourceFields;
  readonly scopeMetrics: readonly ScopeMetricsData[];
}

/** How many points a collection holds (what a partial success counts against). */
export function pointCount(data: ResourceMetricsData): number {
  let points = 0;
  for (const scope of data.scopeMetrics) for (const metric of scope.metrics) points += metric.points.length;
  return points;
}
