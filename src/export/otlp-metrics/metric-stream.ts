/**
 * One instrument's data: a series per attribute set, each with its cell and
 * the time it began. Memory is bounded by a cap on attribute sets (the
 * OpenTelemetry SDK's cardinality limit, 2000 by default): once `limit − 1`
 * sets exist, measurements with any new set go to one overflow series,
 * `otel.metric.overflow=true`, so a metric never holds more than `limit`
 * points and the totals stay right.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { attributeSetCopy, attributeSetKey, OVERFLOW_ATTRIBUTES, OVERFLOW_KEY } from './attribute-set.js';
import { HistogramCell, LastValueCell, SumCell, type Cell } from './cells.js';
import type { HistogramPoint, MetricData, MetricDescriptor, NumberPoint } from './metric-data.js';

export const DEFAULT_CARDINALITY_LIMIT = 2000;

export type InstrumentKind = 'counter' | 'up-down-counter' | 'histogram' | 'gauge';

export interface StreamDefinition {
  readonly kind: InstrumentKind;
  readonly descriptor: MetricDescriptor;
  /** Histograms only: the bucket bounds. */
  readonly boundaries: readonly number[];
}

/** Why a measurement was not recorded, or was recorded under the overflow set. */
export type MeasurementTrouble = 'not a finite number' | 'negative' | 'overflow';

interface Series<P> {
  readonly attributes: Attributes;
  readonly startTime: HrTime;
  readonly cell: Cell<P>;
}

export class MetricStream {
  private readonly series = new Map<string, Series<NumberPoint | HistogramPoint>>();

  constructor(
    readonly definition: StreamDefinition,
    private readonly limit: number,
    /** Told about every measurement that was dropped or went to the overflow series. */
    private readonly onTrouble: (trouble: MeasurementTrouble, stream: MetricStream) => void,
  ) {}

  /** `now` is read only when the measurement begins a series (its start time). */
  record(value: number, attributes: Attributes | undefined, now: () => HrTime): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.onTrouble('not a finite number', this);
      return;
    }
    const { kind, descriptor } = this.definition;
    if (value < 0 && (kind === 'counter' || kind === 'histogram')) {
      this.onTrouble('negative', this);
      return;
    }
    // An integer instrument keeps integers, as the SDK does: the fraction is dropped.
    const measured = descriptor.valueType === 'int' ? Math.trunc(value) : value;
    this.seriesFor(attributes, now).cell.record(measured);
  }

  /** The metric as of `now`, or undefined while nothing was recorded. */
  collect(now: HrTime): MetricData | undefined {
    if (this.series.size === 0) return undefined;
    const { kind, descriptor } = this.definition;
    const points = [...this.series.values()].map((series) => series.cell.point({ attributes: series.attributes, startTime: series.startTime, time: now }));
    switch (kind) {
      case 'counter':
      case 'up-down-counter':
        return { kind: 'sum', descriptor, monotonic: kind === 'counter', points: points as NumberPoint[] };
      case 'gauge':
        return { kind: 'gauge', descriptor, points: points as NumberPoint[] };
      case 'histogram':
        return { kind: 'histogram', descriptor, points: points as HistogramPoint[] };
    }
  }

  private seriesFor(attributes: Attributes | undefined, now: () => HrTime): Series<NumberPoint | HistogramPoint> {
    const key = attributeSetKey(attributes);
    const existing = this.series.get(key);
    if (existing !== undefined) return existing;
    if (this.series.size < this.limit - 1) return this.newSeries(key, attributeSetCopy(attributes), now);
    this.onTrouble('overflow', this);
    return this.series.get(OVERFLOW_KEY) ?? this.newSeries(OVERFLOW_KEY, OVERFLOW_ATTRIBUTES, now);
  }

  private newSeries(key: string, attributes: Attributes, now: () => HrTime): Series<NumberPoint | HistogramPoint> {
    const series = { attributes, startTime: now(), cell: this.newCell() };
    this.series.set(key, series);
    return series;
  }

  private newCell(): Cell<NumberPoint | HistogramPoint> {
    switch (this.definition.kind) {
      case 'counter':
      case 'up-down-counter':
        return new SumCell();
      case 'gauge':
        return new LastValueCell();
      case 'histogram':
        return new HistogramCell(this.definition.boundaries);
    }
  }
}
