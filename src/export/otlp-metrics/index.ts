/** moa-otel's own OTLP/HTTP metrics export: what setup and the public entry point use. */
export { buildMetricsPipeline, type MetricsPipeline, type MetricsPipelineOptions, type MetricsPipelineStats } from './pipeline.js';
export { OwnMeterProvider, type MeterProviderStats, type OwnMeterProviderOptions } from './meter-provider.js';
export { OtlpHttpMetricsExporter, type OtlpMetricsExporterOptions, type OtlpMetricsExportStats } from './exporter.js';
export { PeriodicMetricReader, type PeriodicMetricReaderOptions } from './periodic-reader.js';
export { resolveMetricsSettings, type MetricsSettings } from './settings.js';
export type { ResourceMetricsData } from './metric-data.js';
