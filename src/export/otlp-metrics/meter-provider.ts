/**
 * moa-otel's own meter provider, for `setupMoaTracing()` when it exports
 * metrics itself: the API's `MeterProvider` on `@opentelemetry/api` alone,
 * never registered globally (as the tracer provider next to it, the global
 * slot is the application's). It aggregates in memory with cumulative
 * temporality and hands the totals to whoever collects them (the periodic
 * exporting reader).
 */
import { diag, type Attributes, type HrTime, type Meter, type MeterOptions, type MeterProvider } from '@opentelemetry/api';
import { CauseReporter } from '../../base/cause-reporter.js';
import { hrNow } from './clock.js';
import { OwnMeter } from './meter.js';
import type { ResourceMetricsData } from './metric-data.js';
import { DEFAULT_CARDINALITY_LIMIT, type MeasurementTrouble, type MetricStream } from './metric-stream.js';

export interface OwnMeterProviderOptions {
  resourceAttributes?: Attributes;
  /** Attribute sets kept per instrument, the overflow series included (default 2000, as the SDK). */
  cardinalityLimit?: number;
  /** Where problems are reported, once per cause (default: the OpenTelemetry diag logger, as warnings). */
  log?: (message: string) => void;
  /** The clock of measurements and collections (tests set it). */
  now?: () => HrTime;
}

export interface MeterProviderStats {
  /** Measurements not recorded: not a finite number, or negative on a counter or histogram. */
  droppedMeasurements: number;
  /** Measurements recorded under `otel.metric.overflow=true` because their instrument had no room for another attribute set. */
  overflowMeasurements: number;
}

export class OwnMeterProvider implements MeterProvider {
  readonly stats: MeterProviderStats = { droppedMeasurements: 0, overflowMeasurements: 0 };
  private readonly meters = new Map<string, OwnMeter>();
  private readonly resource: { attributes: Attributes; schemaUrl: string };
  private readonly reporter: CauseReporter;
  private readonly cardinalityLimit: number;
  private readonly now: () => HrTime;
  private recording = true;

  /** Throws only for a cardinality limit that is not a positive integer. */
  constructor(options: OwnMeterProviderOptions = {}) {
    this.cardinalityLimit = options.cardinalityLimit ?? DEFAULT_CARDINALITY_LIMIT;
    if (!Number.isInteger(this.cardinalityLimit) || this.cardinalityLimit < 1) {
      throw new RangeError(`cardinality limit must be a positive integer, got ${this.cardinalityLimit}`);
    }
    this.resource = { attributes: Object.freeze({ ...options.resourceAttributes }), schemaUrl: '' };
    this.reporter = new CauseReporter(options.log ?? ((message: string) => diag.warn(message)));
    this.now = options.now ?? hrNow;
  }

  getMeter(name: string, version = '', options: MeterOptions = {}): Meter {
    const schemaUrl = options.schemaUrl ?? '';
    const key = JSON.stringify([name, version, schemaUrl]);
    let meter = this.meters.get(key);
    if (meter === undefined) {
      meter = new OwnMeter({ name, version, schemaUrl }, {
        cardinalityLimit: this.cardinalityLimit,
        isRecording: () => this.recording,
        now: this.now,
        onTrouble: (trouble, stream) => this.countTrouble(trouble, stream),
        warn: (cause, message) => this.reporter.fail(cause, message),
      });
      this.meters.set(key, meter);
    }
    return meter;
  }

  /** Every metric recorded so far, as cumulative totals at this moment. */
  collect(): ResourceMetricsData {
    const now = this.now();
    const scopeMetrics = [...this.meters.values()]
      .map((meter) => ({ scope: meter.scope, metrics: meter.collect(now) }))
      .filter((scope) => scope.metrics.length > 0);
    return { resource: this.resource, scopeMetrics };
  }

  /** Stops recording; what was recorded can still be collected (for the last export). */
  shutdown(): void {
    this.recording = false;
  }

  private countTrouble(trouble: MeasurementTrouble, stream: MetricStream): void {
    const { name } = stream.definition.descriptor;
    if (trouble === 'overflow') {
      this.stats.overflowMeasurements += 1;
      this.reporter.fail(`overflow ${name}`, () => `moa-otel: metric ${name} reached its limit of ${this.cardinalityLimit} attribute sets; `
        + 'measurements with further sets are counted under otel.metric.overflow=true');
      return;
    }
    this.stats.droppedMeasurements += 1;
    const what = trouble === 'negative' ? `a negative value on ${stream.definition.kind} ${name}` : `a value that is not a finite number on metric ${name}`;
    this.reporter.fail(`${trouble} ${name}`, () => `moa-otel: ${what} was not recorded (further ones are counted, not repeated)`);
  }
}
