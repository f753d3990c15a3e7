/**
 * The span processors moa-otel contributes, from one resolved configuration:
 * the JSONL turn processor (lossless, synchronous) and, only when moa-otel's
 * own OTLP settings ask for it, an OTLP exporter that ships MoA spans only.
 */
import { diag, type Context, type Span } from '@opentelemetry/api';
import { resolveConfig, type MoaOptions, type ResolveConfigContext } from '../config/load.js';
import type { Env } from '../config/paths.js';
import type { MoaConfig } from '../config/schema.js';
import { JsonlSpanProcessor } from '../export/jsonl-exporter.js';
import { otlpExportWanted } from '../export/otlp/wanted.js';
import { ByteBoundedBatchSpanProcessor, OtlpHttpTraceExporter, OtlpProtocolError, resolveOtlpProtocol, type OtlpProtocol } from '../export/otlp/index.js';
import { INSTRUMENTATION_SCOPE } from '../trace/attributes.js';
import { ContentPolicy, standardContentSwitches, type ContentPolicyOptions } from '../trace/content-policy.js';
import { MoaInstrumentation } from '../trace/instrumentation.js';
import { noteJsonlSinkBuilt } from '../trace/live-pipelines.js';
import { spanThroughPolicy } from '../trace/span-content.js';
import type { FinishedSpan, SpanProcessorLike } from '../trace/span-data.js';

export const DEFAULT_OTLP_TRACES_URL = 'http://localhost:4318/v1/traces';

/** What `createMoaSpanProcessors` returns: the processors (spread them into your provider) and the instrumentation that feeds them. */
export interface MoaSpanProcessors extends Array<SpanProcessorLike> {
  /** Record turns with this: `processors.instrumentation.startTurn(...)` or `createMoaClient({ instrumentation })`. */
  readonly instrumentation: MoaInstrumentation;
  readonly config: MoaConfig;
  /** The JSONL processor, when `save_traces` is on (its `stats` count lines, partial turns and errors). */
  readonly jsonl: JsonlSpanProcessor | undefined;
  /** Where MoA spans are sent, when moa-otel's own OTLP export is on. */
  readonly otlpUrl: string | undefined;
}

export interface BuiltProcessors {
  config: MoaConfig;
  /** The pipeline's one content policy: its instrumentation and every sink get this same object. */
  policy: ContentPolicy;
  jsonl: JsonlSpanProcessor | undefined;
  otlp: SpanProcessorLike | undefined;
  /** The processors that are on, JSONL first: what a provider is given. */
  active: SpanProcessorLike[];
  otlpUrl: string | undefined;
  /** The OTLP exporter and its queue, for their stats (exported, failed and dropped spans). */
  otlpExport: { exporter: OtlpHttpTraceExporter; queue: ByteBoundedBatchSpanProcessor } | undefined;
}

/**
 * The processors a configuration asks for, and the one content policy they
 * share with the pipeline's instrumentation. `env` is where the OTLP
 * endpoint may come from. `spanContentOnlyForOtlp`: span content is read by
 * nothing but moa-otel's own OTLP export (setup's private provider), so
 * without it spans carry none (the file gets exact messages from payloads).
 */
export function buildProcessors(config: MoaConfig, env: Env, options: { spanContentOnlyForOtlp?: boolean } = {}): BuiltProcessors {
  const otlpWanted = otlpExportWanted(config, env);
  const content = contentOptions(config, env);
  const policy = new ContentPolicy(options.spanContentOnlyForOtlp && !otlpWanted ? { ...content, capture: 'NO_CONTENT' } : content);
  const jsonl = config.save_traces
    ? new JsonlSpanProcessor({
      traceDir: config.trace_dir,
      traceCacheHits: config.trace_cache_hits,
      traceFormat: config.trace_format,
      profile: config.profile,
      env,
      policy,
    })
    : undefined;
  // Lets startMoaTurn() say so when a turn reaches a provider without moa-otel's processors.
  if (jsonl) noteJsonlSinkBuilt();
  if (!otlpWanted) return { config, policy, jsonl, otlp: undefined, active: jsonl ? [jsonl] : [], otlpUrl: undefined, otlpExport: undefined };
  const otlpUrl = config.otlp.endpoint ?? DEFAULT_OTLP_TRACES_URL;
  const exporter = new OtlpHttpTraceExporter({
    url: otlpUrl,
    protocol: otlpProtocol(config, env),
    headers: config.otlp.headers ?? {},
    timeoutMillis: config.otlp.timeout_ms,
    maxExportBytes: config.otlp.max_export_bytes,
    captureContent: config.otlp.capture_content,
  });
  // What waits for export is bounded in bytes: a collector that is down never grows the host's heap past it.
  const queue = new ByteBoundedBatchSpanProcessor(exporter, {
    maxQueueBytes: config.otlp.max_queue_bytes,
    exportTimeoutMillis: config.otlp.timeout_ms + 5_000,
  });
  const otlp = new MoaSpansOnly(queue, policy);
  return { config, policy, jsonl, otlp, active: jsonl ? [jsonl, otlp] : [otlp], otlpUrl, otlpExport: { exporter, queue } };
}

/**
 * For applications that own their provider:
 * `new NodeTracerProvider({ spanProcessors: [...createMoaSpanProcessors({ save_traces: true })] })`.
 *
 * Adds only what moa-otel's own settings ask for: the JSONL processor with
 * `save_traces`, an OTLP exporter only with `otlp.enabled` / `otlp.endpoint`
 * (never from the standard `OTEL_EXPORTER_OTLP_*` variables, which the app's
 * own exporter already honours). The instrumentation it returns records on
 * the global provider; call `setTracerProvider(provider)` on it when yours is
 * not registered globally.
 */
export function createMoaSpanProcessors(options: MoaOptions = {}, context: ResolveConfigContext = {}): MoaSpanProcessors {
  const env = withoutStandardOtlpExporter(context.env ?? process.env);
  const config = resolveConfig(options, { ...context, env });
  const built = buildProcessors(config, env);
  const instrumentation = new MoaInstrumentation({
    policy: built.policy,
    env: context.env ?? process.env,
    ...(built.jsonl ? { recordingExpectedFor: 'the JSONL files' } : {}),
  });
  return Object.assign([...built.active], { instrumentation, config, jsonl: built.jsonl, otlpUrl: built.otlpUrl });
}

/** `otlp.protocol`, else OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL, else http/protobuf; anything else is one line. */
function otlpProtocol(config: MoaConfig, env: Env): OtlpProtocol {
  if (config.otlp.protocol) return config.otlp.protocol;
  try {
    return resolveOtlpProtocol(env);
  } catch (err) {
    if (!(err instanceof OtlpProtocolError)) throw err;
    // A protocol moa-otel does not speak (grpc) names some other exporter's choice: export anyway, say so once.
    diag.warn(`moa-otel: ${err.message}; moa-otel exports with http/protobuf`);
    return 'http/protobuf';
  }
}

/**
 * What goes into spans, from the configuration and the standard switches of
 * `env`: `otlp.capture_content: false` wins; otherwise
 * OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT decides, `SPAN_ONLY` by default.
 */
export function contentOptions(config: MoaConfig, env: Env): ContentPolicyOptions {
  const switches = standardContentSwitches(env);
  return {
    redact: config.redact,
    capture: config.otlp.capture_content === false ? 'NO_CONTENT' : switches.capture ?? 'SPAN_ONLY',
    latestConventions: switches.latestConventions ?? false,
    ...(config.otlp.max_content_bytes !== undefined ? { maxContentBytes: config.otlp.max_content_bytes } : {}),
    backendHints: config.otlp.backend_hints,
  };
}

/**
 * Hands a processor only the spans moa-otel's instrumentation made, with
 * content masked this processor's way: in an application's provider, moa-otel's
 * exporter must not ship the application's own spans, nor content another
 * instrumentation left unmasked.
 */
export class MoaSpansOnly implements SpanProcessorLike {
  constructor(private readonly inner: SpanProcessorLike, readonly policy: ContentPolicy) {}

  onStart(span: Span, parentContext: Context): void {
    if (isOurs(span as Partial<FinishedSpan>)) this.inner.onStart(span, parentContext);
  }

  onEnd(span: FinishedSpan): void {
    if (isOurs(span)) this.inner.onEnd(spanThroughPolicy(span, this.policy));
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

function isOurs(span: Partial<FinishedSpan>): boolean {
  // Older SDKs name the scope `instrumentationLibrary`.
  const scope = span.instrumentationScope ?? (span as { instrumentationLibrary?: { name?: string } }).instrumentationLibrary;
  return scope?.name === INSTRUMENTATION_SCOPE;
}

/**
 * The environment without the standard OTLP exporter variables: in an
 * application's provider they configure the application's exporter — its
 * endpoint, its credentials (headers), its protocol — never moa-otel's.
 */
function withoutStandardOtlpExporter(env: Env): Env {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) if (!name.startsWith('OTEL_EXPORTER_OTLP_')) out[name] = value;
  return out;
}

