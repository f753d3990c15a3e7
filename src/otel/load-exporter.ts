/**
 * The official OpenTelemetry trace exporters, loaded lazily from the
 * application: `@opentelemetry/exporter-trace-otlp-proto` for http/protobuf
 * (the default), `-http` for http/json, `-grpc` for grpc, and the SDK's
 * `ConsoleSpanExporter` for `OTEL_TRACES_EXPORTER=console`. When the package
 * is missing the answer is one line naming it and the version line that fits
 * the application's OpenTelemetry; nothing throws.
 *
 * The official exporters read the standard `OTEL_EXPORTER_OTLP_*` variables
 * (endpoint, headers merged, compression, timeout, certificates) from
 * `process.env`, once, in their constructor. So that they read the
 * environment moa-otel resolved its settings from — which differs from
 * `process.env` when a caller passes its own, and is stripped of the app's
 * exporter variables inside an application's provider — the constructor runs
 * with exactly those variables in place, restored right after (synchronous,
 * so no other code can observe the swap).
 */
import { errorLine } from '../base/errors.js';
import type { SpanExporterLike } from '../trace/span-data.js';
import { exporterVersionLine, loadBeside, loadFromApplication, missingPackageLineFor } from './load-from-app.js';
import { estimatedMeasure, serializerMeasure, type SpanMeasure, type TraceSerializerLike } from './span-measure.js';
import type { WireEncoding } from './span-size.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** The OTLP protocols there is an official exporter for. */
export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

export const TRACE_EXPORTER_PACKAGES: Readonly<Record<OtlpProtocol, string>> = {
  'http/protobuf': '@opentelemetry/exporter-trace-otlp-proto',
  'http/json': '@opentelemetry/exporter-trace-otlp-http',
  grpc: '@opentelemetry/exporter-trace-otlp-grpc',
};

/** What moa-otel itself may tell an official exporter; anything left out, the exporter takes from the variables. */
export interface OfficialExporterConfig {
  url?: string;
  headers?: Record<string, string>;
  timeoutMillis?: number;
}

export interface LoadedExporter {
  exporter: SpanExporterLike;
  /** How the size guard measures requests for this exporter. */
  measure: SpanMeasure;
  packageName: string;
}

export type ExporterLoad = { ok: true; loaded: LoadedExporter } | { ok: false; line: string };

export interface LoadOptions {
  /** The standard variables the exporter should see (default `process.env`, as it is). */
  env?: Env;
  /** Where the application lives (default `process.cwd()`). */
  cwd?: string;
}

type ExporterClass = new (config?: Record<string, unknown>) => SpanExporterLike;

export function loadOtlpTraceExporter(protocol: OtlpProtocol, config: OfficialExporterConfig, options: LoadOptions = {}): ExporterLoad {
  const packageName = TRACE_EXPORTER_PACKAGES[protocol];
  const found = loadFromApplication<{ OTLPTraceExporter?: ExporterClass }>(packageName, options.cwd);
  const Exporter = found?.module.OTLPTraceExporter;
  if (!found || typeof Exporter !== 'function') return { ok: false, line: missingPackageLine(packageName, `OTLP export (${protocol})`, options.cwd) };
  let exporter: SpanExporterLike;
  try {
    exporter = withStandardVariables(options.env, () => new Exporter(definedOnly(config)));
  } catch (error) {
    return { ok: false, line: `moa-otel: ${packageName} refused its configuration: ${errorLine(error)}` };
  }
  const encoding: WireEncoding = protocol === 'http/json' ? 'json' : 'protobuf';
  const transformer = loadBeside<Record<string, TraceSerializerLike | undefined>>('@opentelemetry/otlp-transformer', found);
  const serializer = transformer?.[encoding === 'json' ? 'JsonTraceSerializer' : 'ProtobufTraceSerializer'];
  const measure = serializer && typeof serializer.serializeRequest === 'function' ? serializerMeasure(encoding, serializer) : estimatedMeasure(encoding);
  return { ok: true, loaded: { exporter, measure, packageName } };
}

/** The SDK's ConsoleSpanExporter (`OTEL_TRACES_EXPORTER=console`), from the SDK the application has. */
export function loadConsoleSpanExporter(options: LoadOptions = {}): ExporterLoad {
  for (const packageName of ['@opentelemetry/sdk-trace-base', '@opentelemetry/sdk-trace']) {
    const found = loadFromApplication<{ ConsoleSpanExporter?: new () => SpanExporterLike }>(packageName, options.cwd);
    const Exporter = found?.module.ConsoleSpanExporter;
    if (typeof Exporter === 'function') return { ok: true, loaded: { exporter: new Exporter(), measure: estimatedMeasure('json'), packageName } };
  }
  const sdk = exporterVersionLine(options.cwd) === '^0.301' ? '@opentelemetry/sdk-trace@^3' : '@opentelemetry/sdk-trace-base@^2';
  return { ok: false, line: `moa-otel: OTEL_TRACES_EXPORTER=console needs the OpenTelemetry SDK's ConsoleSpanExporter: npm install ${sdk}` };
}

/** One line: what is missing, and the install command for the line that fits the application's OpenTelemetry. */
export function missingPackageLine(packageName: string, what: string, cwd?: string): string {
  return `moa-otel: ${missingPackageLineFor(packageName, what, cwd)}`;
}

/** The config without its undefined entries, as an official exporter (traces or metrics) is handed it. */
export function definedOnly(config: OfficialExporterConfig): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined));
}

const STANDARD_PREFIX = 'OTEL_EXPORTER_OTLP_';

/** Runs `construct` with process.env's standard exporter variables set as in `env` (unchanged when env is process.env). */
export function withStandardVariables<T>(env: Env | undefined, construct: () => T): T {
  if (env === undefined || env === process.env) return construct();
  const saved = new Map<string, string | undefined>();
  const names = new Set([...Object.keys(process.env), ...Object.keys(env)].filter((name) => name.startsWith(STANDARD_PREFIX)));
  for (const name of names) {
    saved.set(name, process.env[name]);
    const value = env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  try {
    return construct();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
