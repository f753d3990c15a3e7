/**
 * moa-otel: OpenTelemetry-native tracing for Mixture-of-Agents turns.
 *
 * This entry holds the instrumentation, the span processors and exporters,
 * and setup; it needs nothing but `@opentelemetry/api`. The MoA client is
 * `moa-otel/client`, the trace-file reader and commands' logic
 * `moa-otel/offline`, a scripted model server for tests `moa-otel/testing`.
 */
// setup
export { setupMoaTracing, type MoaTracing, type SetupOptions } from './setup/setup.js';
export { createMoaSpanProcessors, type MoaSpanProcessors } from './setup/processors.js';
// instrumentation
export {
  MoaInstrumentation, defaultMoaInstrumentation, startMoaTurn,
  type MoaInstrumentationOptions, type MoaTurnStarter, type StartMoaTurnOptions,
} from './trace/instrumentation.js';
export type {
  AggregatorCall, AggregatorEnd, AggregatorStart, CacheOutcome, CallEnd, CallHandle, CallStart, ChatMessage, Cost,
  CostStatus, FanoutMode, MoaTurn, OutputLocation, ReferenceCall, ReferenceStart, ResponseInfo, ReusedReference, ToolCall, TurnOptions,
  Usage,
} from './trace/types.js';
export { ContentPolicy, type ContentCapture, type ContentPolicyOptions } from './trace/content-policy.js';
export type { FinishedSpan, SpanProcessorLike, SpanExporterLike } from './trace/span-data.js';
export * as attributes from './trace/attributes.js';
// the JSONL sink
export {
  JsonlSpanProcessor, JsonlTurnExporter, type JsonlTurnExporterOptions, type JsonlExporterStats,
} from './export/jsonl-exporter.js';
export type { TurnRecord, ReferenceRecord, AggregatorRecord } from './record/schema.js';
// content
export { toGenAiMessages, fromGenAiMessages, type GenAiMessage, type GenAiPart } from './content/genai.js';
// configuration
export { resolveConfig, MoaConfigError, type MoaOptions, type ResolveConfigContext } from './config/load.js';
export type { MoaConfig } from './config/schema.js';
export { resolveTraceDir, sanitizeSessionId, sessionFilePath } from './config/paths.js';
