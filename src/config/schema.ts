/**
 * The one schema for every moa-otel option, whether it comes from code, the
 * environment or `<home>/config.yaml` (section `moa:`). Keys are snake_case
 * as in the config file; code may use camelCase (normalized before parsing).
 */
import { z } from 'zod';
import { headerProblem } from './http-header.js';
import { describeKeyValueProblem, parseKeyValueList } from './key-value-list.js';
import { compileLinear } from '../base/linear-regex.js';

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

function positiveInteger(max = Number.MAX_SAFE_INTEGER, maxMessage = `expected a positive integer of at most ${max}`) {
  return z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
    z.number({ error: 'expected a positive integer' })
      .int('expected a positive integer')
      .positive('expected a positive integer')
      .max(max, maxMessage),
  );
}

const positiveInt = positiveInteger();

/** A span exporter as OpenTelemetry SDKs define it, structurally (the config layer knows no OpenTelemetry). */
export interface OtlpSpanExporter {
  export(spans: never[], resultCallback: (result: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

function isSpanExporter(value: unknown): value is OtlpSpanExporter {
  return typeof value === 'object' && value !== null
    && typeof (value as { export?: unknown }).export === 'function' && typeof (value as { shutdown?: unknown }).shutdown === 'function';
}

/** Node.js fires a longer timer after 1 ms, so a longer timeout would time every call out at once. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const timeoutMs = positiveInteger(MAX_TIMEOUT_MS, `expected at most ${MAX_TIMEOUT_MS} ms (about 24.8 days, the longest timer Node.js can set)`);

/** Only http(s): the OTLP/HTTP exporter and the \`openai\` client speak nothing else. */
const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

/**
 * `user_turn`, `per_iteration` or `every_n:N`; the original's mapping form
 * `{ mode: every_n, n: N }` (and `{ mode: user_turn }`) means the same string.
 */
export const fanoutSchema = z.preprocess(
  (value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const { mode, n } = value as { mode?: unknown; n?: unknown };
    return mode === 'every_n' ? `every_n:${String(n)}` : mode;
  },
  z.string({ error: 'expected user_turn, per_iteration or every_n:N (N >= 1)' })
    .regex(/^(user_turn|per_iteration|every_n:[1-9]\d*)$/, 'expected user_turn, per_iteration or every_n:N (N >= 1)'),
);

/** A number that may come as YAML text (`"0.6"`); the original's `null` and `""` mean "not set". */
function optionalNumber<T extends z.ZodType<number>>(schema: T) {
  return z.preprocess(
    (v) => (v === null || v === '' ? undefined : typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
    schema.optional(),
  );
}
const temperatureSchema = optionalNumber(z.number({ error: 'expected a temperature from 0 to 2' }).min(0).max(2));
const positiveSeconds = optionalNumber(z.number({ error: 'expected a positive number of seconds' }).positive('expected a positive number of seconds')
  .max(MAX_TIMEOUT_MS / 1000, `expected at most ${Math.floor(MAX_TIMEOUT_MS / 1000)} seconds (about 24.8 days, the longest timer Node.js can set)`));
const optionalPositiveInt = optionalNumber(z.number().int('expected a positive integer').positive('expected a positive integer'));

/** Every header must be sendable: a valid name, no CR/LF in the value. */
function checkHeaders(headers: Record<string, string>, ctx: z.RefinementCtx): void {
  for (const [name, value] of Object.entries(headers)) {
    const problem = headerProblem(name, value);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return;
    }
  }
}

const headersSchema = z.union([
  z.record(z.string(), z.string()).superRefine(checkHeaders),
  // "k=v,k2=v2" as in OTEL_EXPORTER_OTLP_HEADERS
  z.string().transform((text, ctx) => {
    const { entries, problems } = parseKeyValueList(text);
    const first = problems[0];
    if (first) {
      ctx.addIssue({ code: 'custom', message: `expected name=value pairs separated by commas: ${describeKeyValueProblem(first)}` });
      return z.NEVER;
    }
    checkHeaders(entries, ctx);
    return entries;
  }),
], { error: 'expected a mapping of header names to values, or "name=value,name2=value2" (values %-encoded)' });

export const otlpSchema = z.strictObject({
  enabled: strictBoolean.optional(),
  endpoint: httpUrl.optional(),
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
  /** `http/protobuf` (the OpenTelemetry default), `http/json` or `grpc`; default from OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL. */
  protocol: z.enum(['http/protobuf', 'http/json', 'grpc'], { error: 'expected http/protobuf, http/json or grpc' }).optional(),
  /**
   * An OpenTelemetry span exporter to send through (any `SpanExporter`), from
   * code only; default: the official OTLP exporter of `protocol`, loaded from
   * the application.
   */
  exporter: z.custom<OtlpSpanExporter>(isSpanExporter, { error: 'expected a span exporter (an object with export() and shutdown())' }).optional(),
  /** Share of traces exported over OTLP (0–1, decided from the trace id); the JSONL files keep every turn. */
  sample_ratio: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
    z.number({ error: 'expected a number from 0 to 1' }).min(0, 'expected a number from 0 to 1').max(1, 'expected a number from 0 to 1'),
  ).optional(),
  /** Largest encoded export request; batches are split and oversized spans shrunk below it. */
  max_export_bytes: positiveInt.default(4 * 1024 * 1024),
  /** What may wait for export, in bytes (encoded estimate); past it the oldest spans are dropped and counted. */
  max_queue_bytes: positiveInt.default(64 * 1024 * 1024),
  /** Export timeout; default OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT, else 10000. Also bounds forceFlush() and shutdown(). */
  timeout_ms: timeoutMs.optional(),
  /** Export moa-otel's metrics (GenAI client and MoA metrics) over OTLP too, whenever OTLP export is on. */
  metrics: strictBoolean.default(true),
  /**
   * The full metrics URL. Default: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, else the traces endpoint
   * with `/v1/traces` → `/v1/metrics`, else OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/metrics`.
   */
  metrics_endpoint: httpUrl.optional(),
  /** Milliseconds between metrics exports; default OTEL_METRIC_EXPORT_INTERVAL, else 60000. */
  metrics_interval_ms: timeoutMs.optional(),
});

export const modelSlotSchema = z.strictObject({
  provider: z.string().min(1, 'expected a provider name'),
  model: z.string().min(1, 'expected a model name'),
  temperature: temperatureSchema,
  /** An effort level (`low`, `high`) or a provider-specific `reasoning` object. The original's `reasoning_effort` lands here. */
  reasoning: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  label: z.string().optional(),
  /** The original's per-slot switch: a disabled reference is left out of the preset. */
  enabled: strictBoolean.default(true),
  /** Extra request-body fields for this model's calls (the caller's fields win). */
  extra_body: z.record(z.string(), z.unknown()).optional(),
});

/**
 * A preset in moa-otel's words (`references`) or the original's
 * (`reference_models`, `reference_temperature`, `reference_timeout`, ...).
 * A disabled preset, or one without enabled references, is the aggregator
 * alone.
 */
export const presetSchema = z.strictObject({
  references: z.array(modelSlotSchema).default([]),
  aggregator: modelSlotSchema,
  fanout: fanoutSchema.optional(),
  enabled: strictBoolean.default(true),
  /** Temperature of every reference without its own; unset: the provider's default. */
  reference_temperature: temperatureSchema,
  /** Temperature of the aggregator when its slot has none; unset: the caller's `temperature`. */
  aggregator_temperature: temperatureSchema,
  /** Seconds each reference may take (the original's unit); unset: `reference_timeout_ms`. */
  reference_timeout: positiveSeconds,
  /** `max_tokens` of each reference call (the aggregator is never capped). */
  reference_max_tokens: optionalPositiveInt,
  /** Characters of one tool result the references see; unset: `tool_result_budget`. */
  reference_tool_result_budget: optionalPositiveInt,
});

export const providerSchema = z.strictObject({
  base_url: httpUrl,
  api_key_env: z.string().optional(),
  api_key: z.string().optional(),
  /** GenAI `gen_ai.provider.name` (openai, anthropic, ...). Defaults to the provider key. */
  gen_ai_provider: z.string().optional(),
  /** Calls through this provider are covered by a subscription: cost status `included`. */
  included: strictBoolean.optional(),
  /** The API its models are called through: chat completions (default) or the Responses API. */
  api: z.enum(['chat_completions', 'responses'], { error: 'expected chat_completions or responses' }).optional(),
});

/**
 * User patterns, compiled; a syntax error, or a pattern the linear-time engine
 * cannot run (lookahead, backreferences), fails with the pattern's index.
 */
const patternListSchema = z.array(z.string()).transform((patterns, ctx) => {
  const out: RegExp[] = [];
  for (const [index, source] of patterns.entries()) {
    let compiled: RegExp;
    try {
      compiled = new RegExp(source, 'g');
    } catch (err) {
      // The engine's message names the pattern; ours names only its position (a pattern may hold a secret).
      const reason = err instanceof Error ? err.message.replace(/^Invalid regular expression: \/.*\/\w*: /, '') : 'invalid';
      ctx.addIssue({ code: 'custom', message: `not a valid regular expression (${reason})`, path: [index] });
      return z.NEVER;
    }
    const linear = compileLinear(compiled);
    if (!linear.ok) {
      ctx.addIssue({ code: 'custom', message: `refused: ${linear.reason}`, path: [index] });
      return z.NEVER;
    }
    out.push(compiled);
  }
  return out;
});

export const redactOptionsSchema = z.strictObject({
  /** Mask e-mail addresses too (default true). */
  emails: strictBoolean.optional(),
  /** Mask phone numbers written with delimiters (what `privacy_filter` adds). */
  phones: strictBoolean.optional(),
  /** Extra regular expressions, on top of the built-in patterns. */
  patterns: patternListSchema.optional(),
});

export const redactSchema = z.union([strictBoolean, patternListSchema, redactOptionsSchema], {
  error: 'expected true/false, a list of regular expressions, or a mapping { emails: true/false, phones: true/false, patterns: [...] }',
});

const PRIVACY_OFF = new Set(['', 'off', 'false', 'no', '0', 'none']);
const PRIVACY_FULL = new Set(['full', 'true', 'on', 'yes', '1']);
export const privacyFilterSchema = z.preprocess((value) => {
  if (value === true) return 'full';
  if (value === false || value === null) return '';
  if (typeof value !== 'string') return value;
  const word = value.trim().toLowerCase();
  return PRIVACY_OFF.has(word) ? '' : PRIVACY_FULL.has(word) ? 'full' : word;
}, z.enum(['', 'display', 'full'], { error: 'expected display, full or off' }));


export const moaConfigSchema = z.strictObject({
  save_traces: strictBoolean.default(false),
  trace_dir: z.string().refine((dir) => !dir.includes('\0'), 'a path cannot hold a NUL character').optional(),
  trace_cache_hits: strictBoolean.default(false),
  /** Each reference's agreement with and unique contribution to the answer, on the aggregator span and as a metric (docs/backends.md). */
  insights_live: strictBoolean.default(false),
  /** `jsonl`: the original format; `compact`: each distinct message stored once per session file (docs/compact-format.md). */
  trace_format: z.enum(['jsonl', 'compact'], { error: 'expected jsonl or compact' }).default('jsonl'),
  profile: z.string().regex(/^[\w.-]+$/, 'expected a profile name of letters, digits, -_.').optional(),
  otlp: otlpSchema.default({
    capture_content: true, backend_hints: true, max_export_bytes: 4 * 1024 * 1024, max_queue_bytes: 64 * 1024 * 1024, metrics: true,
  }),
  /** Defaults to OTEL_SERVICE_NAME, then `service.name` of OTEL_RESOURCE_ATTRIBUTES, then `moa-otel`. */
  service_name: z.string().min(1).optional(),
  /** `true`: built-in secret patterns; a list: those regular expressions too; a mapping: `emails`, `patterns`. */
  redact: redactSchema.default(false),
  presets: z.record(z.string(), presetSchema).default({}),
  providers: z.record(z.string(), providerSchema).default({}),
  default_preset: z.string().optional(),
  /** The original's session switch: when it names a preset, `model: "moa"` means that one. `""`: off. */
  active_preset: z.string().optional(),
  /**
   * The original's privacy filter: `display` masks secrets, e-mail addresses
   * and phone numbers in the records (it becomes `redact` when that is not
   * set); `full` also masks the advisors' notes the aggregator reads.
   */
  privacy_filter: privacyFilterSchema.default(''),
  fanout: fanoutSchema.default('user_turn'),
  reference_timeout_ms: timeoutMs.default(120_000),
  /** Characters of a tool result shown to the references before it is cut in the middle. */
  tool_result_budget: positiveInt.default(4000),
});

export type MoaConfig = z.output<typeof moaConfigSchema>;
export type PresetConfig = z.output<typeof presetSchema>;
export type ModelSlotConfig = z.output<typeof modelSlotSchema>;
export type ProviderConfig = z.output<typeof providerSchema>;
