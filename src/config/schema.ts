/**
 * The one schema for every moa-otel option, whether it comes from code, the
 * environment or `<home>/config.yaml` (section `moa:`). Keys are snake_case
 * as in the config file; code may use camelCase (normalized before parsing).
 */
import { z } from 'zod';

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off', '']);

/** Strict boolean: real booleans, or the usual words. `"false"` is never true. */
export const strictBoolean = z.preprocess((value) => {
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
  }
  if (value === 1) return true;
  if (value === 0) return false;
  return value;
}, z.boolean({ error: 'expected a boolean (true/false, yes/no, on/off, 1/0)' }));

const positiveInt = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
  z.number({ error: 'expected a positive integer' }).int('expected a positive integer').positive('expected a positive integer'),
);

export const fanoutSchema = z
  .string()
  .regex(/^(user_turn|per_iteration|every_n:[1-9]\d*)$/, 'expected user_turn, per_iteration or every_n:N (N >= 1)');

const headersSchema = z.union([
  z.record(z.string(), z.string()),
  // "k=v,k2=v2" as in OTEL_EXPORTER_OTLP_HEADERS
  z.string().transform((s, ctx) => {
    const out: Record<string, string> = {};
    for (const part of s.split(',')) {
      if (part.trim() === '') continue;
      const eq = part.indexOf('=');
      if (eq <= 0) {
        ctx.addIssue({ code: 'custom', message: `expected key=value pairs separated by commas, got "${part.trim()}"` });
        return z.NEVER;
      }
      out[decodeURIComponent(part.slice(0, eq).trim())] = decodeURIComponent(part.slice(eq + 1).trim());
    }
    return out;
  }),
]);

export const otlpSchema = z.strictObject({
  enabled: strictBoolean.optional(),
  endpoint: z.url({ error: 'expected an http(s) URL' }).optional(),
  headers: headersSchema.optional(),
  /**
   * Send message content to the OTLP backend (the JSONL file always keeps it).
   * `false` wins over OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT.
   */
  capture_content: strictBoolean.default(true),
  /** Cap, in UTF-8 bytes, of each content string on spans, so UIs stay readable; the files keep everything. */
  max_content_bytes: positiveInt.optional(),
  /** Cheap attribute sets some backends render from (OpenInference root for Phoenix, Langfuse cost). */
  backend_hints: strictBoolean.default(true),
  /** `http/protobuf` (the OpenTelemetry default) or `http/json`; default from OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL. */
  protocol: z.enum(['http/protobuf', 'http/json'], { error: 'expected http/protobuf or http/json' }).optional(),
  /** Largest encoded export request; batches are split and oversized spans shrunk below it. */
  max_export_bytes: positiveInt.default(4 * 1024 * 1024),
  /** What may wait for export, in bytes (encoded estimate); past it the oldest spans are dropped and counted. */
  max_queue_bytes: positiveInt.default(64 * 1024 * 1024),
  timeout_ms: positiveInt.default(10_000),
  /** Export moa-otel's metrics (GenAI client and MoA metrics) over OTLP too, whenever OTLP export is on. */
  metrics: strictBoolean.default(true),
  /**
   * The full metrics URL. Default: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, else the traces endpoint
   * with `/v1/traces` → `/v1/metrics`, else OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/metrics`.
   */
  metrics_endpoint: z.url({ error: 'expected an http(s) URL' }).optional(),
  /** Milliseconds between metrics exports; default OTEL_METRIC_EXPORT_INTERVAL, else 60000. */
  metrics_interval_ms: positiveInt.optional(),
});

export const modelSlotSchema = z.strictObject({
  provider: z.string().min(1, 'expected a provider name'),
  model: z.string().min(1, 'expected a model name'),
  temperature: z.number().min(0).max(2).optional(),
  reasoning: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  label: z.string().optional(),
});

export const presetSchema = z.strictObject({
  references: z.array(modelSlotSchema).min(1, 'a preset needs at least one reference'),
  aggregator: modelSlotSchema,
  fanout: fanoutSchema.optional(),
});

export const providerSchema = z.strictObject({
  base_url: z.url({ error: 'expected an http(s) URL' }),
  api_key_env: z.string().optional(),
  api_key: z.string().optional(),
  /** GenAI `gen_ai.provider.name` (openai, anthropic, ...). Defaults to the provider key. */
  gen_ai_provider: z.string().optional(),
  /** Calls through this provider are covered by a subscription: cost status `included`. */
  included: strictBoolean.optional(),
});

export const redactSchema = z.union([
  strictBoolean,
  z.array(z.string()).transform((patterns, ctx) => {
    const out: RegExp[] = [];
    for (const p of patterns) {
      try { out.push(new RegExp(p, 'g')); } catch {
        ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${p}` });
        return z.NEVER;
      }
    }
    return out;
  }),
]);

export const moaConfigSchema = z.strictObject({
  save_traces: strictBoolean.default(false),
  trace_dir: z.string().optional(),
  trace_cache_hits: strictBoolean.default(false),
  profile: z.string().regex(/^[\w.-]+$/, 'expected a profile name of letters, digits, -_.').optional(),
  otlp: otlpSchema.default({
    capture_content: true, backend_hints: true, max_export_bytes: 4 * 1024 * 1024, max_queue_bytes: 64 * 1024 * 1024, timeout_ms: 10_000, metrics: true,
  }),
  /** Defaults to OTEL_SERVICE_NAME, then `service.name` of OTEL_RESOURCE_ATTRIBUTES, then `moa-otel`. */
  service_name: z.string().min(1).optional(),
  /** `true`: built-in secret patterns; a list: those regular expressions too. */
  redact: redactSchema.default(false),
  presets: z.record(z.string(), presetSchema).default({}),
  providers: z.record(z.string(), providerSchema).default({}),
  default_preset: z.string().optional(),
  fanout: fanoutSchema.default('user_turn'),
  reference_timeout_ms: positiveInt.default(120_000),
  /** Characters of a tool result shown to the references before it is cut in the middle. */
  tool_result_budget: positiveInt.default(4000),
});

/** Options as accepted from code: snake_case or camelCase keys, everything optional. */
export type MoaOptionsInput = z.input<typeof moaConfigSchema>;
export type MoaConfig = z.output<typeof moaConfigSchema>;
export type OtlpConfig = MoaConfig['otlp'];
export type PresetConfig = z.output<typeof presetSchema>;
export type ModelSlotConfig = z.output<typeof modelSlotSchema>;
export type ProviderConfig = z.output<typeof providerSchema>;
