/**
 * The span processors moa-otel contributes, from one resolved configuration:
 * the JSONL turn processor (lossless, synchronous) and, only when moa-otel's
 * own OTLP settings ask for it, an OTLP exporter that ships MoA spans only.
 */
import { diag, type Context, type Span } from '@opentelemetry/api';
import { displayUrl } from '../config/otlp-url.js';
import type { MoaOptions, ResolveConfigContext } from '../config/load.js';
import type { Env } from '../config/paths.js';
import type { MoaConfig } from '../config/schema.js';
import { resolveSettings, type MoaSettings, type OtlpSettings } from '../config/settings.js';
import { JsonlSpanProcessor } from '../export/jsonl-exporter.js';
import { ByteBoundedBatchSpanProcessor } from '../otel/byte-bounded-batch-processor.js';
import { loadConsoleSpanExporter, loadOtlpTraceExporter, type ExporterLoad } from '../otel/load-exporter.js';
import { SampledSpansOnly } from '../otel/otlp-sampling.js';
import { ReportingExporter } from '../otel/reporting-exporter.js';
import { SizeGuardedExporter } from '../otel/size-guard.js';
import { estimatedMeasure } from '../otel/span-measure.js';
import { INSTRUMENTATION_SCOPE } from '../trace/attributes.js';
import { ContentPolicy, contentSwitchOptions, type ContentPolicyOptions } from '../trace/content-policy.js';
import { MoaInstrumentation } from '../trace/instrumentation.js';
import { noteJsonlSinkBuilt } from '../trace/live-pipelines.js';
import { spanThroughPolicy } from '../trace/span-content.js';
import type { FinishedSpan, SpanExporterLike, SpanProcessorLike } from '../trace/span-data.js';

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

/** What OTLP export did so far. */
export interface OtlpStats {
  /** Spans the backend accepted. */
  exportedSpans: number;
  /** Spans whose export failed (backend down, rejected, timed out). */
  failedSpans: number;
  /** Spans dropped before export because the queue was over its bound (or left at shutdown). */
  droppedSpans: number;
  /** Spans left out by sampling (a parent the application did not sample, or `otlp.sample_ratio`). */
  notSampledSpans: number;
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
  otlpStats: () => OtlpStats | undefined;
  /** The OTLP settings in force (timeout, protocol, …). */
  otlpSettings: OtlpSettings;
}

export interface BuildOptions {
  /**
   * Span content is read by nothing but moa-otel's own OTLP export (setup's
   * private provider), so without it spans carry none (the file gets exact
   * messages from payloads).
   */
  spanContentOnlyForOtlp?: boolean;
  /** Where a missing exporter package or an unusable setting is reported (default: diag warning). */
  notice?: (line: string) => void;
  /** Where the application lives, to load exporters from (default `process.cwd()`). */
  cwd?: string;
}

/**
 * The processors the settings ask for, and the one content policy they
 * share with the pipeline's instrumentation.
 */
export function buildProcessors(all: MoaSettings, options: BuildOptions = {}): BuiltProcessors {
  const { config, env, otlp: settings } = all;
  const notice = options.notice ?? ((line: string) => diag.warn(line));
  if (settings.enabled && settings.protocolProblem) notice(settings.protocolProblem);
  // Exporters load first: when none can be, no span content is made for nobody to read.
  const exports = settings.enabled ? exportPipelines(settings, options.cwd, notice) : [];
  const content = contentOptions(all);
  const policy = new ContentPolicy(options.spanContentOnlyForOtlp && exports.length === 0 ? { ...content, capture: 'NO_CONTENT' } : content);
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
  if (exports.length === 0) {
    return { config, policy, jsonl, otlp: undefined, active: jsonl ? [jsonl] : [], otlpUrl: undefined, otlpStats: () => undefined, otlpSettings: settings };
  }
  const otlp = new MoaSpansOnly(new SampledSpansOnly(fanOut(exports.map((e) => e.queue)), settings.sampleRatio), policy);
  const otlpStats = (): OtlpStats => ({
    exportedSpans: sum(exports, (e) => e.reporting.stats.exportedSpans),
    failedSpans: sum(exports, (e) => e.reporting.stats.failedSpans),
    droppedSpans: sum(exports, (e) => e.queue.stats.droppedSpans),
    notSampledSpans: (otlp.inner as SampledSpansOnly).stats.notSampledSpans,
  });
  return { config, policy, jsonl, otlp, active: jsonl ? [jsonl, otlp] : [otlp], otlpUrl: settings.endpoint, otlpStats, otlpSettings: settings };
}

interface ExportPipeline {
  queue: ByteBoundedBatchSpanProcessor;
  reporting: ReportingExporter;
}

/**
 * One queue per exporter: queue (bounded in bytes) → size guard → counting
 * and reporting → the exporter. Exporters that cannot be loaded are one line
 * each; the JSONL file goes on either way.
 */
function exportPipelines(settings: OtlpSettings, cwd: string | undefined, notice: (line: string) => void): ExportPipeline[] {
  const loads: { load: ExporterLoad; target: string }[] = [];
  if (settings.exporter) {
    loads.push({
      load: { ok: true, loaded: { exporter: settings.exporter as unknown as SpanExporterLike, measure: estimatedMeasure(settings.protocol === 'http/json' ? 'json' : 'protobuf'), packageName: 'otlp.exporter' } },
      target: settings.endpoint ? displayUrl(settings.endpoint) : 'the exporter passed in',
    });
  } else {
    for (const name of settings.exporters) {
      if (name === 'console') loads.push({ load: loadConsoleSpanExporter({ cwd }), target: 'the console' });
      else loads.push({ load: loadOtlpTraceExporter(settings.protocol, settings.exporterConfig, { env: settings.exporterEnv, cwd }), target: settings.endpoint ? displayUrl(settings.endpoint) : 'the OTLP endpoint' });
    }
  }
  const pipelines: ExportPipeline[] = [];
  for (const { load, target } of loads) {
    if (!load.ok) {
      notice(`${load.line}; MoA spans are not exported (JSONL files are written as configured)`);
      continue;
    }
    const reporting = new ReportingExporter(load.loaded.exporter, { target });
    const guarded = new SizeGuardedExporter(reporting, {
      maxExportBytes: settings.maxExportBytes,
      captureContent: settings.captureContent,
      measure: load.loaded.measure,
    });
    // What waits for export is bounded in bytes: a collector that is down never grows the host's heap past it.
    const queue = new ByteBoundedBatchSpanProcessor(guarded, { maxQueueBytes: settings.maxQueueBytes, exportTimeoutMillis: settings.timeoutMillis });
    pipelines.push({ queue, reporting });
  }
  return pipelines;
}

function sum<T>(items: readonly T[], pick: (item: T) => number): number {
  return items.reduce((total, item) => total + pick(item), 0);
}

/** One processor feeding several (the usual case is one). */
function fanOut(processors: readonly SpanProcessorLike[]): SpanProcessorLike {
  if (processors.length === 1) return processors[0] as SpanProcessorLike;
  return {
    onStart: (span, context) => { for (const p of processors) p.onStart(span, context); },
    onEnd: (span) => { for (const p of processors) p.onEnd(span); },
    forceFlush: () => Promise.all(processors.map((p) => p.forceFlush())).then(() => undefined),
    shutdown: () => Promise.all(processors.map((p) => p.shutdown())).then(() => undefined),
  };
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
  const settings = resolveSettings(options, { ...context, env });
  const config = settings.config;
  const built = buildProcessors(settings);
  const instrumentation = new MoaInstrumentation({
    policy: built.policy,
    env: context.env ?? process.env,
    insightsLive: config.insights_live,
    ...(built.jsonl ? { recordingExpectedFor: 'the JSONL files' } : {}),
  });
  return Object.assign([...built.active], { instrumentation, config, jsonl: built.jsonl, otlpUrl: built.otlpUrl });
}

/**
 * What goes into spans, from the configuration and the standard switches:
 * `otlp.capture_content: false` wins; otherwise
 * OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT decides, `SPAN_ONLY` by default.
 */
export function contentOptions(settings: MoaSettings): ContentPolicyOptions {
  const { config } = settings;
  const switches = contentSwitchOptions(settings.content);
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
  constructor(readonly inner: SpanProcessorLike, readonly policy: ContentPolicy) {}

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
 * The environment without the standard OTLP exporter variables (and
 * OTEL_TRACES_EXPORTER): in an application's provider they configure the
 * application's exporter — its endpoint, its credentials (headers), its
 * protocol — never moa-otel's.
 */
function withoutStandardOtlpExporter(env: Env): Env {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) if (!name.startsWith('OTEL_EXPORTER_OTLP_') && name !== 'OTEL_TRACES_EXPORTER') out[name] = value;
  return out;
}

