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
const positiveSeconds = optionalNumber(z.number({ error: 'expected a positive number of seconds' }).positive('expected a positive number of seconds'));

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
  /** Send message content to the OTLP backend (the JSONL file always keeps it). */
  capture_content: strictBoolean.default(true),
  /** Largest encoded export request; batches are split and oversized spans shrunk below it. */
  max_export_bytes: positiveInt.default(4 * 1024 * 1024),
  timeout_ms: positiveInt.default(10_000),
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
  reference_max_tokens: optionalNumber(z.number().int('expected a positive integer').positive('expected a positive integer')),
  /** Characters of one tool result the references see; unset: `tool_result_budget`. */
  reference_tool_result_budget: optionalNumber(z.number().int('expected a positive integer').positive('expected a positive integer')),
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

const PRIVACY_OFF = new Set(['', 'off', 'false', 'no', '0', 'none']);
const PRIVACY_FULL = new Set(['full', 'true', 'on', 'yes', '1']);
export const privacyFilterSchema = z.preprocess((value) => {
  if (value === true) return 'full';
  if (value === false || value === null) return '';
  if (typeof value !== 'string') return value;
  const word = value.trim().toLowerCase();
  return PRIVACY_OFF.has(word) ? '' : PRIVACY_FULL.has(word) ? 'full' : word;
}, z.enum(['', 'display', 'full'], { error: 'expected display, full or off' }));

/**
 * What `privacy_filter` adds to the built-in secret patterns, as the original
 * masks them: e-mail addresses, and phone numbers written with delimiters (so
 * line numbers, dates, versions and IDs are left alone).
 */
export const PRIVACY_FILTER_PATTERNS: readonly string[] = [
  String.raw`\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b`,
  String.raw`(?<![\w.+-])(?:\+?1[ .-])?(?:\(\d{3}\)[ .-]?|\d{3}[.-])\d{3}[.-]\d{4}(?![\w-])`,
];

export const moaConfigSchema = z.strictObject({
  save_traces: strictBoolean.default(false),
  trace_dir: z.string().optional(),
  trace_cache_hits: strictBoolean.default(false),
  profile: z.string().regex(/^[\w.-]+$/, 'expected a profile name of letters, digits, -_.').optional(),
  otlp: otlpSchema.default({ capture_content: true, max_export_bytes: 4 * 1024 * 1024, timeout_ms: 10_000 }),
  /** Defaults to OTEL_SERVICE_NAME, then `service.name` of OTEL_RESOURCE_ATTRIBUTES, then `moa-otel`. */
  service_name: z.string().min(1).optional(),
  /** `true`: built-in secret patterns; a list: those regular expressions too. */
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
