/**
 * A meter of moa-otel's own meter provider: the API's `Meter`, recording
 * synchronous instruments (counter, up-down counter, histogram, gauge) into
 * metric streams.
 *
 * Asynchronous (observable) instruments and batch observer callbacks are
 * accepted and do nothing: moa-otel's instrumentation records everything as
 * it happens, and running callbacks would make a collection wait on code
 * that is not ours. An application that needs them uses its own SDK's
 * meter provider.
 *
 * Instruments are identified as the SDK specification says: the name (in
 * any case), kind, unit and value type. Asking again for the same one
 * returns an instrument on the same stream; a same-named instrument that
 * differs in kind, unit or value type gets its own stream (both are
 * exported) and one warning.
 */
import {
  createNoopMeter, ValueType, type Attributes, type BatchObservableCallback, type Counter, type Gauge, type Histogram, type HrTime, type Meter,
  type MetricOptions, type Observable, type ObservableCounter, type ObservableGauge, type ObservableUpDownCounter, type UpDownCounter,
} from '@opentelemetry/api';
import type { ScopeFields } from '../otlp/common-proto.js';
import { histogramBoundaries } from './cells.js';
import type { MetricData } from './metric-data.js';
import { MetricStream, type InstrumentKind, type MeasurementTrouble, type StreamDefinition } from './metric-stream.js';

/** The SDK's rule for instrument names: an ASCII letter, then up to 254 of letters, digits, `_ . - /`. */
const INSTRUMENT_NAME = /^[a-z][a-z0-9_.\-/]{0,254}$/i;

/** What every meter of one provider shares. */
export interface MeterContext {
  readonly cardinalityLimit: number;
  /** False once the provider is shut down: measurements are ignored from then on. */
  isRecording(): boolean;
  now(): HrTime;
  /** Told about each measurement dropped or sent to the overflow series. */
  onTrouble(trouble: MeasurementTrouble, stream: MetricStream): void;
  /** A configuration problem (invalid name, conflicting definitions), reported once per cause. */
  warn(cause: string, message: string): void;
}

type RecordFn = (value: number, attributes?: Attributes) => void;

export class OwnMeter implements Meter {
  private readonly streams: MetricStream[] = [];
  private readonly noop = createNoopMeter();

  constructor(readonly scope: ScopeFields, private readonly context: MeterContext) {}

  createCounter<A extends Attributes = Attributes>(name: string, options?: MetricOptions): Counter<A> {
    return { add: this.recorder(name, 'counter', options) };
  }

  createUpDownCounter<A extends Attributes = Attributes>(name: string, options?: MetricOptions): UpDownCounter<A> {
    return { add: this.recorder(name, 'up-down-counter', options) };
  }

  createHistogram<A extends Attributes = Attributes>(name: string, options?: MetricOptions): Histogram<A> {
    return { record: this.recorder(name, 'histogram', options) };
  }

  createGauge<A extends Attributes = Attributes>(name: string, options?: MetricOptions): Gauge<A> {
    return { record: this.recorder(name, 'gauge', options) };
  }

  createObservableCounter<A extends Attributes = Attributes>(name: string, options?: MetricOptions): ObservableCounter<A> {
    return this.noop.createObservableCounter<A>(name, options);
  }

  createObservableUpDownCounter<A extends Attributes = Attributes>(name: string, options?: MetricOptions): ObservableUpDownCounter<A> {
    return this.noop.createObservableUpDownCounter<A>(name, options);
  }

  createObservableGauge<A extends Attributes = Attributes>(name: string, options?: MetricOptions): ObservableGauge<A> {
    return this.noop.createObservableGauge<A>(name, options);
  }

  addBatchObservableCallback<A extends Attributes = Attributes>(_callback: BatchObservableCallback<A>, _observables: Observable<A>[]): void {
    // Observable instruments do not record here (see the module comment).
  }

  removeBatchObservableCallback<A extends Attributes = Attributes>(_callback: BatchObservableCallback<A>, _observables: Observable<A>[]): void {
    // Nothing was added.
  }

  /** This meter's metrics as of `now`; instruments with nothing recorded are left out. */
  collect(now: HrTime): MetricData[] {
    return this.streams.map((stream) => stream.collect(now)).filter((metric): metric is MetricData => metric !== undefined);
  }

  private recorder(name: string, kind: InstrumentKind, options: MetricOptions | undefined): RecordFn {
    if (typeof name !== 'string' || !INSTRUMENT_NAME.test(name)) {
      this.context.warn(`name ${String(name)}`, `moa-otel: metric instrument name ${JSON.stringify(String(name)).slice(0, 300)} is not valid `
        + '(an ASCII letter, then up to 254 letters, digits or _ . - /): its measurements are not recorded');
      return () => undefined;
    }
    const stream = this.streamFor(name, kind, options);
    return (value, attributes) => {
      if (this.context.isRecording()) stream.record(value, attributes, this.context.now);
    };
  }

  private streamFor(name: string, kind: InstrumentKind, options: MetricOptions | undefined): MetricStream {
    const definition: StreamDefinition = {
      kind,
      descriptor: {
        name,
        description: typeof options?.description === 'string' ? options.description : '',
        unit: typeof options?.unit === 'string' ? options.unit : '',
        valueType: options?.valueType === ValueType.INT ? 'int' : 'double',
      },
      boundaries: kind === 'histogram' ? histogramBoundaries(options?.advice?.explicitBucketBoundaries) : [],
    };
    const sameName = this.streams.filter((stream) => stream.definition.descriptor.name.toLowerCase() === name.toLowerCase());
    const identical = sameName.find((stream) => sameIdentity(stream.definition, definition));
    if (identical !== undefined) return identical;
    if (sameName.length > 0) {
      this.context.warn(`conflict ${this.scope.name} ${name.toLowerCase()}`, `moa-otel: metric ${name} of meter ${this.scope.name} is defined twice with a `
        + 'different kind, unit or value type; both are exported, which a backend may show as one metric');
    }
    const stream = new MetricStream(definition, this.context.cardinalityLimit, (trouble, source) => this.context.onTrouble(trouble, source));
    this.streams.push(stream);
    return stream;
  }
}

function sameIdentity(a: StreamDefinition, b: StreamDefinition): boolean {
  return a.kind === b.kind && a.descriptor.unit === b.descriptor.unit && a.descriptor.valueType === b.descriptor.valueType;
}
