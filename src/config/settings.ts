/**
 * Every setting, read once: the options, the `MOA_*` variables and
 * `config.yaml` (through `resolveConfig`), and the standard `OTEL_*`
 * variables moa-otel honours — OTLP export (endpoint source, protocol,
 * timeout, OTEL_TRACES_EXPORTER, OTEL_SDK_DISABLED), metrics
 * (OTEL_METRICS_EXPORTER, OTEL_METRIC_EXPORT_INTERVAL), content capture
 * (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
 * OTEL_SEMCONV_STABILITY_OPT_IN) and the resource (OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES) — into one `MoaSettings` that the layers above
 * (`setup`, the CLI) are handed; they read no variable themselves. The
 * official exporters read their own standard variables (headers,
 * compression, certificates) from the environment recorded here.
 */
import path from 'node:path';
import { parseKeyValueList } from './key-value-list.js';
import { resolveConfig, type MoaOptions, type ResolveConfigContext } from './load.js';
import type { Env } from './paths.js';
import type { MoaConfig, OtlpSpanExporter } from './schema.js';
import { DEFAULT_OTLP_PROTOCOL, OtlpProtocolError, resolveOtlpProtocol, type OtlpProtocol } from './otlp-protocol.js';
import { standardTracesEndpoint } from './otlp-url.js';

export const DEFAULT_OTLP_TIMEOUT_MILLIS = 10_000;
export const DEFAULT_OTLP_TRACES_URL = 'http://localhost:4318/v1/traces';

export type TracesExporterName = 'otlp' | 'console';

export interface OtlpSettings {
  /** Whether spans are exported at all (OTLP and/or console). */
  enabled: boolean;
  /** From OTEL_TRACES_EXPORTER (`otlp` when unset); empty with `none`. */
  exporters: TracesExporterName[];
  protocol: OtlpProtocol;
  /** One line when a variable named a protocol that does not exist (the default is used then). */
  protocolProblem: string | undefined;
  /** Where spans go, as far as moa-otel knows it (printed, reported); undefined for the exporter's own default. */
  endpoint: string | undefined;
  /**
   * What moa-otel tells the official exporter. Undefined when the endpoint
   * came from the standard variables: the exporter then reads them itself, so
   * headers merge, and compression, timeout and certificates apply, as
   * everywhere else.
   */
  exporterConfig: { url?: string; headers?: Record<string, string>; timeoutMillis?: number };
  /**
   * The standard variables the official exporter is constructed under. With
   * moa-otel's own endpoint, the standard endpoint and headers are left out:
   * those headers are another collector's credentials, and the official
   * exporter would merge them into every request to ours.
   */
  exporterEnv: Env;
  /** The export timeout in force: it also bounds forceFlush() and shutdown(). */
  timeoutMillis: number;
  /** Whether that timeout came from `otlp.timeout_ms` or OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT rather than the default. */
  timeoutConfigured: boolean;
  /** Share of traces exported (1 = all). */
  sampleRatio: number;
  /** An exporter the application passed in (`otlp.exporter`). */
  exporter: OtlpSpanExporter | undefined;
  /** Whether message content may leave the process over OTLP. */
  captureContent: boolean;
  maxExportBytes: number;
  maxQueueBytes: number;
}

/** OTLP export is on when asked for (`otlp.enabled`), or when an endpoint or exporter is configured; `OTEL_SDK_DISABLED=true` wins. */
export function otlpSettings(config: MoaConfig, env: Env): OtlpSettings {
  const exporters = tracesExporters(env);
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  const asked = config.otlp.enabled ?? (config.otlp.endpoint !== undefined || config.otlp.exporter !== undefined || exportsToConsoleOnly(env));
  let protocol: OtlpProtocol = config.otlp.protocol ?? DEFAULT_OTLP_PROTOCOL;
  let protocolProblem: string | undefined;
  if (!config.otlp.protocol) {
    try {
      protocol = resolveOtlpProtocol(env);
    } catch (error) {
      if (!(error instanceof OtlpProtocolError)) throw error;
      protocolProblem = `moa-otel: ${error.message}; exporting with ${DEFAULT_OTLP_PROTOCOL}`;
    }
  }
  const standardEndpoint = standardTracesEndpoint(env);
  const fromStandard = config.otlp.endpoint !== undefined && config.otlp.endpoint === standardEndpoint;
  const explicitTimeout = config.otlp.timeout_ms;
  const timeoutMillis = explicitTimeout ?? standardTimeout(env) ?? DEFAULT_OTLP_TIMEOUT_MILLIS;
  const exporterConfig: OtlpSettings['exporterConfig'] = fromStandard || config.otlp.endpoint === undefined
    ? { ...(explicitTimeout !== undefined ? { timeoutMillis: explicitTimeout } : {}) }
    : {
      url: config.otlp.endpoint,
      ...(config.otlp.headers && Object.keys(config.otlp.headers).length > 0 ? { headers: { ...config.otlp.headers } } : {}),
      ...(explicitTimeout !== undefined ? { timeoutMillis: explicitTimeout } : {}),
    };
  return {
    enabled: !disabled && asked && exporters.length > 0,
    exporters,
    protocol,
    protocolProblem,
    endpoint: config.otlp.endpoint ?? (config.otlp.exporter ? undefined : standardEndpoint ?? DEFAULT_OTLP_TRACES_URL),
    exporterConfig,
    exporterEnv: exporterConfig.url !== undefined ? withoutStandardEndpointAndHeaders(env) : env,
    timeoutMillis,
    timeoutConfigured: explicitTimeout !== undefined || standardTimeout(env) !== undefined,
    sampleRatio: config.otlp.sample_ratio ?? 1,
    exporter: config.otlp.exporter,
    captureContent: config.otlp.capture_content,
    maxExportBytes: config.otlp.max_export_bytes,
    maxQueueBytes: config.otlp.max_queue_bytes,
  };
}

/** OTEL_TRACES_EXPORTER: a comma list of `otlp`, `console`, `none` (unknown names are ignored, as SDKs do with a warning). */
function tracesExporters(env: Env): TracesExporterName[] {
  const raw = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (!raw) return ['otlp'];
  const names = raw.split(',').map((name) => name.trim());
  if (names.includes('none')) return [];
  const out: TracesExporterName[] = [];
  if (names.includes('otlp')) out.push('otlp');
  if (names.includes('console')) out.push('console');
  return out.length > 0 ? out : ['otlp'];
}

/** `OTEL_TRACES_EXPORTER=console` alone turns export on without an endpoint (as it does in the SDK). */
function exportsToConsoleOnly(env: Env): boolean {
  const exporters = tracesExporters(env);
  return exporters.length === 1 && exporters[0] === 'console';
}

function standardTimeout(env: Env): number | undefined {
  return positiveNumber(env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT) ?? positiveNumber(env.OTEL_EXPORTER_OTLP_TIMEOUT);
}

export interface MetricsSettings {
  /** Export moa-otel's metrics with its spans (`otlp.metrics`, not OTEL_METRICS_EXPORTER=none). */
  enabled: boolean;
  exporterConfig: { url?: string; headers?: Record<string, string>; timeoutMillis?: number };
  /** `otlp.metrics_interval_ms`, else OTEL_METRIC_EXPORT_INTERVAL; undefined for the SDK's default. */
  intervalMillis: number | undefined;
  /** OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, else the traces protocol. */
  protocol: OtlpProtocol;
}

/**
 * Where metrics go when moa-otel exports them: `otlp.metrics_endpoint`, else,
 * when moa-otel has its own traces endpoint, that URL with `/v1/traces` →
 * `/v1/metrics`; else the exporter reads the standard variables itself.
 */
export function metricsSettings(config: MoaConfig, env: Env, otlp: OtlpSettings): MetricsSettings {
  const off = env.OTEL_METRICS_EXPORTER?.split(',').map((name) => name.trim().toLowerCase()).includes('none') ?? false;
  const own = otlp.exporterConfig.url;
  const url = config.otlp.metrics_endpoint ?? (own !== undefined && own.endsWith('/v1/traces') ? `${own.slice(0, -'/v1/traces'.length)}/v1/metrics` : undefined);
  const interval = config.otlp.metrics_interval_ms ?? positiveNumber(env.OTEL_METRIC_EXPORT_INTERVAL);
  return {
    enabled: otlp.enabled && otlp.exporters.includes('otlp') && config.otlp.metrics && !off,
    exporterConfig: url !== undefined
      ? { url, ...(otlp.exporterConfig.headers ? { headers: otlp.exporterConfig.headers } : {}), ...(otlp.exporterConfig.timeoutMillis ? { timeoutMillis: otlp.exporterConfig.timeoutMillis } : {}) }
      : { ...(otlp.exporterConfig.timeoutMillis ? { timeoutMillis: otlp.exporterConfig.timeoutMillis } : {}) },
    intervalMillis: interval,
    protocol: metricsProtocol(env, otlp.protocol),
  };
}

function positiveNumber(text: string | undefined): number | undefined {
  const value = Number(text?.trim() || Number.NaN);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** The environment without OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT and _HEADERS. */
export function withoutStandardEndpointAndHeaders(env: Env): Env {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) {
    if (/^OTEL_EXPORTER_OTLP_(TRACES_|METRICS_)?(ENDPOINT|HEADERS)$/.test(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The values of OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT. */
export const CONTENT_CAPTURE_VALUES = ['NO_CONTENT', 'SPAN_ONLY', 'EVENT_ONLY', 'SPAN_AND_EVENT'] as const;
export type ContentCaptureValue = (typeof CONTENT_CAPTURE_VALUES)[number];

export interface ContentSwitches {
  /** Undefined when the variable is not set; an invalid value fails closed (`NO_CONTENT`) with a `problem`. */
  capture: ContentCaptureValue | undefined;
  /** OTEL_SEMCONV_STABILITY_OPT_IN contains `gen_ai_latest_experimental`. */
  latestConventions: boolean;
  problem: string | undefined;
}

/** The standard content switches of an environment. */
export function readContentSwitches(env: Env): ContentSwitches {
  const out: ContentSwitches = { capture: undefined, latestConventions: false, problem: undefined };
  const raw = env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.trim();
  if (raw) {
    const mode = raw.toUpperCase();
    if ((CONTENT_CAPTURE_VALUES as readonly string[]).includes(mode)) out.capture = mode as ContentCaptureValue;
    else {
      out.capture = 'NO_CONTENT';
      out.problem = `moa-otel: OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="${raw.slice(0, 40)}" is not one of ${CONTENT_CAPTURE_VALUES.join(', ')}; capturing no content`;
    }
  }
  out.latestConventions = env.OTEL_SEMCONV_STABILITY_OPT_IN?.split(',').map((item) => item.trim()).includes('gen_ai_latest_experimental') ?? false;
  return out;
}

/** `k1=v1,k2=v2` with percent-encoded keys and values; a malformed pair costs only that attribute. */
export function parseResourceAttributes(text: string | undefined): Record<string, string> {
  return parseKeyValueList(text ?? '').entries;
}

/**
 * The SDK's default service name, `unknown_service:<process>`: MoA spans
 * belong to the application's service, not to a service called moa-otel.
 */
export function defaultServiceName(): string {
  return `unknown_service:${path.basename(process.argv0 || 'node')}`;
}

/**
 * The resource attributes: OTEL_RESOURCE_ATTRIBUTES, then the service name —
 * an explicit one (options, MOA_SERVICE_NAME, OTEL_SERVICE_NAME) wins over
 * OTEL_RESOURCE_ATTRIBUTES, which wins over the default, as the SDK
 * specification orders them. `service.version` is the application's to set.
 */
export function resourceAttributes(serviceName: string | undefined, env: Env): Record<string, string> {
  const fromEnv = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES);
  return { ...fromEnv, 'service.name': serviceName ?? fromEnv['service.name'] ?? defaultServiceName() };
}

export interface MoaSettings {
  /** The validated options: code > `MOA_*` (and the standard endpoint, headers, service name) > `config.yaml`. */
  config: MoaConfig;
  /** The environment everything was read from (the JSONL sink resolves its home in it at write time). */
  env: Env;
  otlp: OtlpSettings;
  metrics: MetricsSettings;
  content: ContentSwitches;
  /** The resource of moa-otel's own provider (and of replayed spans). */
  resource: Record<string, string>;
}

export function resolveSettings(options: MoaOptions = {}, context: ResolveConfigContext = {}): MoaSettings {
  const env = context.env ?? process.env;
  const config = resolveConfig(options, { ...context, env });
  return settingsFrom(config, env);
}

/** The settings of an already validated configuration. */
export function settingsFrom(config: MoaConfig, env: Env): MoaSettings {
  const otlp = otlpSettings(config, env);
  return {
    config,
    env,
    otlp,
    metrics: metricsSettings(config, env, otlp),
    content: readContentSwitches(env),
    resource: resourceAttributes(config.service_name, env),
  };
}

/** The metrics protocol the signal-specific variable names; anything unusable falls back to the traces protocol. */
function metricsProtocol(env: Env, traces: OtlpProtocol): OtlpProtocol {
  if (!env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL?.trim()) return traces;
  try {
    return resolveOtlpProtocol(env, 'metrics');
  } catch {
    return traces;
  }
}
