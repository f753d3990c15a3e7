/**
 * moa-otel: OpenTelemetry-native tracing for Mixture-of-Agents turns.
 * The MoA client is `moa-otel/client`, the trace-file reader `moa-otel/offline`.
 */
// setup
export { setupMoaTracing, type MoaTracing, type SetupOptions } from './setup/setup.js';
export { createMoaSpanProcessors, buildMoaProcessors, otlpWanted, DEFAULT_OTLP_TRACES_URL } from './setup/processors.js';
// instrumentation
export { startMoaTurn, describeFailure } from './trace/turn.js';
export type {
  AggregatorCall, AggregatorEnd, AggregatorStart, CacheOutcome, CallEnd, CallStart, ChatMessage, Cost, CostStatus,
  FanoutMode, MoaTurn, OutputLocation, ReferenceCall, ReferenceStart, ResponseInfo, ToolCall, TurnOptions, Usage,
} from './trace/types.js';
export * as attributes from './trace/attributes.js';
// export
export { JsonlTurnExporter, type JsonlTurnExporterOptions, type JsonlExporterStats } from './export/jsonl-exporter.js';
export { SizeBoundedSpanExporter } from './export/otlp-size-guard.js';
export {
  turnRecordSchema, referenceRecordSchema, aggregatorRecordSchema,
  type TurnRecord, type ReferenceRecord, type AggregatorRecord,
} from './record/schema.js';
// content
export { toGenAiMessages, fromGenAiMessages, type GenAiMessage, type GenAiPart } from './content/genai.js';
export { safeStringify } from './content/safe-json.js';
// config
export { resolveConfig, MoaConfigError, type MoaOptions } from './config/load.js';
export type { MoaConfig, MoaOptionsInput, PresetConfig, ProviderConfig, ModelSlotConfig } from './config/schema.js';
export { resolveHome, resolveTraceDir, sanitizeSessionId, sessionFilePath } from './config/paths.js';
