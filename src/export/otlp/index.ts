/** moa-otel's own OTLP/HTTP trace export: what setup and the public entry point use. */
export { ByteBoundedBatchSpanProcessor, type BatchStats, type ByteBoundedBatchOptions } from './batch-processor.js';
export {
  DEFAULT_EXPORT_TIMEOUT_MILLIS, DEFAULT_MAX_EXPORT_BYTES, OtlpExportError, OtlpHttpTraceExporter, type OtlpExportStats, type OtlpTraceExporterOptions,
} from './exporter.js';
export type { OtlpCompression } from './http-sender.js';
export { DEFAULT_OTLP_PROTOCOL, OtlpProtocolError, resolveOtlpProtocol, type OtlpProtocol } from './protocol.js';
export type { RetryOptions } from './retry-policy.js';
