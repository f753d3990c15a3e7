/**
 * A meter provider for moa-otel's metrics, built from the application's own
 * `@opentelemetry/sdk-metrics` and official OTLP metrics exporter when both
 * are installed — moa-otel has no metrics SDK of its own. Used by setup only
 * when it exports and the application registered no meter provider; anything
 * missing is one line, and metrics then go through the global provider (a
 * no-op until the application registers one).
 */
import type { Attributes, MeterProvider } from '@opentelemetry/api';
import { errorLine } from '../base/errors.js';
import { settleWithin } from './deadline.js';
import { definedOnly, type Env, type OfficialExporterConfig, type OtlpProtocol, withStandardVariables } from './load-exporter.js';
import { exporterVersionLine, loadBeside, loadFromApplication } from './load-from-app.js';

export const METRIC_EXPORTER_PACKAGES: Readonly<Record<OtlpProtocol, string>> = {
  'http/protobuf': '@opentelemetry/exporter-metrics-otlp-proto',
  'http/json': '@opentelemetry/exporter-metrics-otlp-http',
  grpc: '@opentelemetry/exporter-metrics-otlp-grpc',
};

export interface MetricsPipelineOptions {
  protocol: OtlpProtocol;
  /** What moa-otel tells the exporter; left out, the exporter reads the standard variables. */
  exporterConfig: OfficialExporterConfig;
  /** Milliseconds between exports; left out, OTEL_METRIC_EXPORT_INTERVAL or the SDK's 60 s. */
  intervalMillis?: number;
  resourceAttributes: Attributes;
  /** Bounds forceFlush() and shutdown(). */
  timeoutMillis: number;
  env?: Env;
  cwd?: string;
}

export interface MetricsPipeline {
  meterProvider: MeterProvider;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

type SdkMeterProvider = MeterProvider & { forceFlush(): Promise<void>; shutdown(): Promise<void> };
interface SdkMetrics {
  MeterProvider: new (options: Record<string, unknown>) => SdkMeterProvider;
  PeriodicExportingMetricReader: new (options: Record<string, unknown>) => unknown;
}

export type MetricsLoad = { ok: true; pipeline: MetricsPipeline } | { ok: false; line: string };

export function loadMetricsPipeline(options: MetricsPipelineOptions): MetricsLoad {
  const exporterPackage = METRIC_EXPORTER_PACKAGES[options.protocol];
  const sdk = loadFromApplication<SdkMetrics>('@opentelemetry/sdk-metrics', options.cwd);
  const exporterModule = loadFromApplication<{ OTLPMetricExporter?: new (config: Record<string, unknown>) => unknown }>(exporterPackage, options.cwd);
  if (!sdk || !exporterModule?.module.OTLPMetricExporter || typeof sdk.module.MeterProvider !== 'function') {
    const line = exporterVersionLine(options.cwd);
    const sdkRange = line === '^0.301' ? '^3' : '^2';
    return {
      ok: false,
      line: `moa-otel: exporting metrics needs @opentelemetry/sdk-metrics and ${exporterPackage}: npm install @opentelemetry/sdk-metrics@${sdkRange} ${exporterPackage}@${line}; until then they go through the global MeterProvider`,
    };
  }
  try {
    const Exporter = exporterModule.module.OTLPMetricExporter;
    const exporter = withStandardVariables(options.env, () => new Exporter(definedOnly(options.exporterConfig)));
    const reader = new sdk.module.PeriodicExportingMetricReader({
      exporter,
      ...(options.intervalMillis !== undefined ? { exportIntervalMillis: options.intervalMillis } : {}),
      exportTimeoutMillis: Math.min(options.timeoutMillis, options.intervalMillis ?? Number.POSITIVE_INFINITY),
    });
    const resources = loadBeside<{ resourceFromAttributes?: (attributes: Attributes) => unknown }>('@opentelemetry/resources', sdk);
    const resource = resources?.resourceFromAttributes?.(options.resourceAttributes);
    const meterProvider = new sdk.module.MeterProvider({ readers: [reader], ...(resource ? { resource } : {}) });
    return {
      ok: true,
      pipeline: {
        meterProvider,
        forceFlush: () => settleWithin(meterProvider.forceFlush().catch(() => undefined), options.timeoutMillis).then(() => undefined),
        shutdown: () => settleWithin(meterProvider.shutdown().catch(() => undefined), options.timeoutMillis).then(() => undefined),
      },
    };
  } catch (error) {
    return { ok: false, line: `moa-otel: could not build a metrics pipeline from @opentelemetry/sdk-metrics and ${exporterPackage}: ${errorLine(error)}` };
  }
}
