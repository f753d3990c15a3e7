/**
 * The metrics half of `setupMoaTracing`'s own pipeline: a meter provider
 * (for the instrumentation's `Meter`) whose totals a periodic reader exports
 * to the OTLP metrics endpoint. Built from the same resolved configuration
 * as the traces half; undefined when OTLP export or metrics are off.
 */
import { diag, type Attributes } from '@opentelemetry/api';
import type { Env } from '../../config/paths.js';
import type { MoaConfig } from '../../config/schema.js';
import type { OtlpProtocol } from '../otlp/protocol.js';
import type { RetryOptions } from '../otlp/retry-policy.js';
import { OtlpHttpMetricsExporter } from './exporter.js';
import { OwnMeterProvider } from './meter-provider.js';
import { PeriodicMetricReader } from './periodic-reader.js';
import { resolveMetricsSettings } from './settings.js';

export interface MetricsPipelineOptions {
  /** The resource of the traces (setup's `buildResource(...)`), so both signals describe one service. Default: just the service name. */
  resourceAttributes?: Attributes;
  /** Where problems are reported, once per cause (default: the OpenTelemetry diag logger, as warnings). */
  log?: (message: string) => void;
  retry?: Partial<RetryOptions>;
}

export interface MetricsPipelineStats {
  /** Export requests the receiver took, and those that failed. */
  exports: number;
  failedExports: number;
  /** Data points the receiver answered as rejected. */
  rejectedDataPoints: number;
  /** Measurements not recorded (not a finite number; negative on a counter or histogram). */
  droppedMeasurements: number;
  /** Measurements recorded under `otel.metric.overflow=true` (an instrument at its attribute-set cap). */
  overflowMeasurements: number;
}

export interface MetricsPipeline {
  /** Hand this to the instrumentation; it is never registered globally. */
  readonly meterProvider: OwnMeterProvider;
  readonly url: string;
  readonly protocol: OtlpProtocol;
  readonly intervalMillis: number;
  stats(): MetricsPipelineStats;
  /** Exports what is recorded now; within the export timeout; never rejects. */
  forceFlush(): Promise<void>;
  /** Stops recording, exports one last time and stops; within the export timeout; never rejects. */
  shutdown(): Promise<void>;
}

/**
 * Throws `MoaConfigError` for a bad metrics setting (endpoint, protocol,
 * headers, interval), as the traces half does for its own.
 */
export function buildMetricsPipeline(config: MoaConfig, env: Env, options: MetricsPipelineOptions = {}): MetricsPipeline | undefined {
  const log = options.log ?? ((message: string) => diag.warn(message));
  const decision = resolveMetricsSettings(config, env);
  if (!decision.export) {
    if (decision.reason !== undefined) log(decision.reason);
    return undefined;
  }
  const { settings } = decision;
  const meterProvider = new OwnMeterProvider({
    resourceAttributes: options.resourceAttributes ?? { 'service.name': config.service_name ?? 'moa-otel' },
    log,
  });
  const exporter = new OtlpHttpMetricsExporter({
    url: settings.url,
    protocol: settings.protocol,
    headers: settings.headers,
    timeoutMillis: settings.timeoutMillis,
    log,
    retry: options.retry,
  });
  const reader = new PeriodicMetricReader({
    collect: () => meterProvider.collect(),
    exporter,
    intervalMillis: settings.intervalMillis,
    onError: log,
  });
  return {
    meterProvider,
    url: settings.url,
    protocol: settings.protocol,
    intervalMillis: settings.intervalMillis,
    stats: () => ({ ...exporter.stats, ...meterProvider.stats }),
    forceFlush: () => reader.forceFlush(),
    shutdown: async () => {
      // Measurements made after shutdown began are not in the last export: stop recording first.
      meterProvider.shutdown();
      await reader.shutdown();
    },
  };
}
