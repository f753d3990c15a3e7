/**
 * Resolves the effective configuration: code options over environment over
 * `<home>/config.yaml` (section `moa:`), validated by one zod schema. A bad
 * value fails with one line naming the key, where it came from and what was
 * expected.
 */
import { closeSync, constants as fsConstants, fstatSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { z } from 'zod';
import { firstLine } from '../base/errors.js';
import { expandEnvRefs, withReferences } from './env-refs.js';
import { MoaConfigError } from './errors.js';
import { normalizeHermesMoaSection } from './hermes-moa.js';
import { readHermesProviders } from './hermes-providers.js';
import { standardTracesEndpoint } from './otlp-url.js';
import { resolveHome, type Env } from './paths.js';
import type { MoaOptions } from './options.js';
import {
  modelSlotSchema, moaConfigSchema, otlpSchema, presetSchema, privacyFilterSchema, providerSchema, type MoaConfig,
} from './schema.js';

export { MoaConfigError };

/**
 * The YAML parser, loaded the first time a config file is read: an offline
 * command given paths reads none, and loading the parser is a fifth of its
 * start-up. `yaml` is CommonJS under Node, so it is required in place.
 */
let yamlParse: typeof import('yaml').parse | undefined;
function parseYaml(text: string): unknown {
  yamlParse ??= (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse;
  return yamlParse(text);
}

export type { MoaOptions } from './options.js';

type Layer = {
  source: string;
  values: Record<string, unknown>;
  variables?: ReadonlyMap<string, string>;
  /** `${VAR}` expansions made in a file (value → reference), shown as the reference in messages. */
  expansions?: ReadonlyMap<string, string>;
};

export interface ResolveConfigContext {
  env?: Env;
  /** Skip reading the config file (tests, or callers that own configuration). */
  ignoreConfigFile?: boolean;
  /**
   * Where the one-line notice about keys of the shared config file that
   * moa-otel does not use goes. Default: stderr, once per process for the
   * same file and keys.
   */
  notice?: (line: string) => void;
  /**
   * `traces`: resolve only what reading and writing trace files needs, so
   * commands that only read the trace directory never fail on a preset or
   * provider they do not use. Default `all`.
   */
  scope?: 'all' | 'traces';
}

/** Keys that only running MoA turns needs; left out of a `traces` resolution. */
const TURN_KEYS = ['presets', 'providers', 'default_preset', 'active_preset', 'fanout', 'reference_timeout_ms', 'tool_result_budget'];

export function resolveConfig(options: MoaOptions = {}, context: ResolveConfigContext = {}): MoaConfig {
  const env = context.env ?? process.env;
  const code: Layer = { source: 'options', values: normalizeKeys(options as Record<string, unknown>) };
  const variables = new Map<string, string>();
  const fromEnv: Layer = { source: 'environment', values: readEnvLayer(env, variables), variables };
  const profile = (code.values.profile ?? fromEnv.values.profile) as string | undefined;
  const layers: Layer[] = [code, fromEnv];
  if (!context.ignoreConfigFile) {
    const file = readFileLayer(resolveHome(env, profile), env);
    if (file) {
      layers.push(file);
      const notice = context.notice ?? noticeOnceToStderr;
      // What was repaired the way the original agent repairs it, one line per key.
      for (const line of file.assumed) notice(`moa-otel: ${file.source}: ${line}`);
      if (file.ignored.length > 0) {
        notice(`moa-otel: ${file.source}: ignored keys moa-otel does not use (section moa:): ${file.ignored.join(', ')}`);
      }
    }
  }
  if (context.scope === 'traces') {
    for (const layer of layers) layer.values = Object.fromEntries(Object.entries(layer.values).filter(([key]) => !TURN_KEYS.includes(key)));
  }

  const merged = withoutStrayStandardHeaders(privacyAsRedaction(mergeLayers(layers)), fromEnv);
  const parsed = moaConfigSchema.safeParse(merged);
  if (!parsed.success) throw new MoaConfigError(describeIssue(parsed.error, layers));
  return parsed.data;
}

/** Environment variables: MOA_* for our keys, OTEL_* standard variables for OTLP. */
function readEnvLayer(env: Env, variables = new Map<string, string>()): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const set = (key: string, name: string) => {
    const v = env[name];
    if (v !== undefined && v !== '') {
      out[key] = v;
      variables.set(key, name);
    }
  };
  set('save_traces', 'MOA_SAVE_TRACES');
  set('trace_dir', 'MOA_TRACE_DIR');
  set('trace_cache_hits', 'MOA_TRACE_CACHE_HITS');
  set('insights_live', 'MOA_INSIGHTS_LIVE');
  set('trace_format', 'MOA_TRACE_FORMAT');
  set('profile', 'MOA_PROFILE');
  set('service_name', 'MOA_SERVICE_NAME');
  set('default_preset', 'MOA_PRESET');
  set('fanout', 'MOA_FANOUT');
  set('reference_timeout_ms', 'MOA_REFERENCE_TIMEOUT_MS');
  if (out.service_name === undefined && env.OTEL_SERVICE_NAME) out.service_name = env.OTEL_SERVICE_NAME;
  set('redact', 'MOA_REDACT');

  const otlp: Record<string, unknown> = {};
  if (env.MOA_OTLP_ENABLED) { otlp.enabled = env.MOA_OTLP_ENABLED; variables.set('otlp.enabled', 'MOA_OTLP_ENABLED'); }
  const standardEndpoint = standardTracesEndpoint(env);
  const endpoint = env.MOA_OTLP_ENDPOINT || standardEndpoint;
  if (endpoint) otlp.endpoint = endpoint;
  // The standard headers carry the credentials of the standard endpoint: they
  // go with it and nowhere else (resolveConfig drops them when the endpoint
  // in force came from somewhere else).
  const headersVariable = env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ? 'OTEL_EXPORTER_OTLP_TRACES_HEADERS' : 'OTEL_EXPORTER_OTLP_HEADERS';
  const headers = env[headersVariable];
  if (headers && !env.MOA_OTLP_ENDPOINT) {
    otlp.headers = headers;
    variables.set('otlp.headers', headersVariable);
  }
  if (env.MOA_OTLP_CAPTURE_CONTENT) { otlp.capture_content = env.MOA_OTLP_CAPTURE_CONTENT; variables.set('otlp.capture_content', 'MOA_OTLP_CAPTURE_CONTENT'); }
  if (env.MOA_OTLP_MAX_EXPORT_BYTES) { otlp.max_export_bytes = env.MOA_OTLP_MAX_EXPORT_BYTES; variables.set('otlp.max_export_bytes', 'MOA_OTLP_MAX_EXPORT_BYTES'); }
  if (Object.keys(otlp).length > 0) out.otlp = otlp;
  return out;
}

/**
 * The text of a regular file. Opened without blocking and checked on the
 * open descriptor: a FIFO (or a device) named config.yaml would otherwise
 * hang every command on its first read, waiting for a writer that never comes.
 */
function readRegularFile(file: string): string {
  const fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw new Error('not a regular file');
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * The config file is shared with the original agent, which keeps keys of its
 * own there: those are left out (and named once) instead of failing. Options
 * given in code have no such excuse, so a typo there still fails.
 */
function readFileLayer(home: string, env: Env): (Layer & { ignored: string[]; assumed: string[] }) | undefined {
  const file = path.join(home, 'config.yaml');
  let text: string;
  try {
    text = readRegularFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MoaConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new MoaConfigError(`${file}: invalid YAML: ${firstLine((err as Error).message)}`);
  }
  if (!isPlainObject(doc)) return undefined;
  // `${VAR}` in any value of the file means what the original agent's loader makes of it.
  const expansions = new Map<string, string>();
  const expanded = expandEnvRefs(doc, env, (reference, value) => expansions.set(value, reference)) as Record<string, unknown>;
  const section = expanded.moa;
  if (section == null) return undefined;
  if (!isPlainObject(section)) {
    throw new MoaConfigError(`${file}: moa: expected a mapping of options`);
  }
  const normalized = normalizeHermesMoaSection(fromFlatPreset(section));
  const hermesProviders = readHermesProviders(expanded);
  const ignored: string[] = [];
  const values = keepKnownKeys(normalizeKeys(normalized.section), ignored);
  // The agent's own provider sections, under what `moa: providers:` defines itself.
  if (Object.keys(hermesProviders.providers).length > 0) {
    values.providers = { ...hermesProviders.providers, ...(isPlainObject(values.providers) ? values.providers : {}) };
  }
  const assumed = [...normalized.notices, ...hermesProviders.notices].map((line) => withReferences(line, expansions));
  return { source: file, values, ignored, assumed, expansions };
}

/** The original's keys of one preset when written at the top of `moa:` (its legacy flat form). */
const FLAT_PRESET_KEYS = [
  'reference_models', 'aggregator', 'reference_temperature', 'aggregator_temperature', 'reference_timeout',
  'degraded_reference_policy', 'fanout', 'enabled', 'reference_tool_result_budget', 'max_tokens', 'reference_max_tokens',
];

/** The legacy flat form (`moa: { reference_models, aggregator, ... }`) is the preset `default`, as in the original. */
function fromFlatPreset(section: Record<string, unknown>): Record<string, unknown> {
  const hasPresets = isPlainObject(section.presets) && Object.keys(section.presets).length > 0;
  if (hasPresets || (section.reference_models === undefined && section.aggregator === undefined)) return section;
  const out: Record<string, unknown> = {};
  const preset: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(section)) {
    if (FLAT_PRESET_KEYS.includes(key)) preset[key] = value;
    else if (key !== 'presets') out[key] = value;
  }
  return { ...out, presets: { default: preset }, default_preset: out.default_preset ?? 'default' };
}

type Shape = { shape: Record<string, unknown> };
const TOP_KEYS = Object.keys((moaConfigSchema as unknown as Shape).shape);
const SECTION_KEYS: Record<string, string[]> = {
  otlp: Object.keys((otlpSchema as unknown as Shape).shape),
};
const PRESET_KEYS = Object.keys((presetSchema as unknown as Shape).shape);
const SLOT_KEYS = Object.keys((modelSlotSchema as unknown as Shape).shape);
const PROVIDER_KEYS = Object.keys((providerSchema as unknown as Shape).shape);

/** Drops keys the schema does not know (appending their paths to `ignored`); values are left to the schema. */
function keepKnownKeys(values: Record<string, unknown>, ignored: string[]): Record<string, unknown> {
  const pick = (obj: Record<string, unknown>, known: readonly string[], at: string) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(obj)) {
      if (known.includes(key)) out[key] = value;
      else ignored.push(`${at}${key}`);
    }
    return out;
  };
  const out = pick(values, TOP_KEYS, '');
  for (const [section, known] of Object.entries(SECTION_KEYS)) {
    if (isPlainObject(out[section])) out[section] = pick(out[section], known, `${section}.`);
  }
  if (isPlainObject(out.providers)) {
    out.providers = mapEntries(out.providers, (name, p) => (isPlainObject(p) ? pick(p, PROVIDER_KEYS, `providers.${name}.`) : p));
  }
  if (isPlainObject(out.presets)) {
    out.presets = mapEntries(out.presets, (name, p) => {
      if (!isPlainObject(p)) return p;
      const preset = pick(p, PRESET_KEYS, `presets.${name}.`);
      const slot = (v: unknown, at: string) => (isPlainObject(v) ? pick(v, SLOT_KEYS, at) : v);
      if (Array.isArray(preset.references)) preset.references = preset.references.map((r, i) => slot(r, `presets.${name}.reference_models[${i}].`));
      preset.aggregator = slot(preset.aggregator, `presets.${name}.aggregator.`);
      return preset;
    });
  }
  return out;
}

function mapEntries(obj: Record<string, unknown>, fn: (key: string, value: unknown) => unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, fn(k, v)]));
}

/** `privacy_filter` (display or full) masks what the original masks (e-mail addresses, phone numbers), unless `redact` says otherwise. */
function privacyAsRedaction(merged: Record<string, unknown>): Record<string, unknown> {
  if (merged.redact !== undefined) return merged;
  const parsed = privacyFilterSchema.safeParse(merged.privacy_filter);
  if (!parsed.success || parsed.data === '') return merged;
  return { ...merged, redact: { emails: true, phones: true } };
}

/**
 * A process reads the shared config file several times (setup, the client, a
 * second loaded copy of moa-otel): the notice about its unused keys is about
 * the file, not about one reader, so which lines were shown is one named
 * process-wide set. It only silences repeats; it decides nothing else.
 */
const NOTICES_SHOWN = Symbol.for('moa-otel.config-notices-shown.v1');

function noticeOnceToStderr(line: string): void {
  const holder = globalThis as { [NOTICES_SHOWN]?: Set<string> };
  const shown = (holder[NOTICES_SHOWN] ??= new Set<string>());
  if (shown.has(line)) return;
  shown.add(line);
  process.stderr.write(`${line}\n`);
}

/**
 * Headers from OTEL_EXPORTER_OTLP_(TRACES_)HEADERS are for the endpoint the
 * same variables name. When code or the config file chose another endpoint,
 * those headers (an observability vendor's key, say) must not travel there.
 */
function withoutStrayStandardHeaders(merged: Record<string, unknown>, fromEnv: Layer): Record<string, unknown> {
  const envOtlp = fromEnv.values.otlp;
  const otlp = merged.otlp;
  if (!isPlainObject(envOtlp) || envOtlp.headers === undefined || !isPlainObject(otlp)) return merged;
  if (otlp.headers !== envOtlp.headers || otlp.endpoint === envOtlp.endpoint) return merged;
  const { headers: _dropped, ...rest } = otlp;
  return { ...merged, otlp: rest };
}

/** Earlier layers win; `otlp`, `presets` and `providers` merge key by key. */
function mergeLayers(layers: Layer[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of [...layers].reverse()) {
    for (const [key, value] of Object.entries(layer.values)) {
      if (value === undefined) continue;
      const prev = out[key];
      if (MERGED_SECTIONS.has(key) && isPlainObject(prev) && isPlainObject(value)) {
        out[key] = { ...prev, ...stripUndefined(value) };
      } else {
        out[key] = value;
      }
    }
  }
  return out;
}

const MERGED_SECTIONS = new Set(['otlp', 'presets', 'providers']);

/**
 * camelCase → snake_case for our option keys, leaving user-chosen names
 * (preset and provider names, header names) untouched.
 */
function normalizeKeys(input: Record<string, unknown>): Record<string, unknown> {
  const out = snakeKeys(input);
  if (isPlainObject(out.otlp)) {
    const otlp = snakeKeys(out.otlp);
    out.otlp = otlp;
  }
  for (const section of ['presets', 'providers'] as const) {
    const named = out[section];
    if (!isPlainObject(named)) continue;
    const normalized: Record<string, unknown> = {};
    for (const [name, entry] of Object.entries(named)) {
      if (!isPlainObject(entry)) { normalized[name] = entry; continue; }
      const e = snakeKeys(entry);
      if (section === 'presets') {
        // The original's name for the references; a single mapping is one reference, as there.
        if (e.references === undefined && e.reference_models !== undefined) {
          e.references = isPlainObject(e.reference_models) ? [e.reference_models] : e.reference_models;
          delete e.reference_models;
        }
        if (Array.isArray(e.references)) e.references = e.references.map((r) => (isPlainObject(r) ? slotKeys(r) : r));
        if (isPlainObject(e.aggregator)) e.aggregator = slotKeys(e.aggregator);
      }
      normalized[name] = e;
    }
    out[section] = normalized;
  }
  return out;
}

/** A model slot's keys; the original's `reasoning_effort` is our `reasoning` (`false` means "none"). */
function slotKeys(slot: Record<string, unknown>): Record<string, unknown> {
  const out = snakeKeys(slot);
  if ('reasoning_effort' in out) {
    const effort = out.reasoning_effort;
    delete out.reasoning_effort;
    if (out.reasoning === undefined && effort !== null && effort !== true && effort !== undefined) {
      out.reasoning = effort === false ? 'none' : typeof effort === 'string' ? effort.trim().toLowerCase() : effort;
    }
  }
  return out;
}

function snakeKeys(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    const snake = key === 'baseURL' ? 'base_url' : key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    out[snake] = value;
  }
  return out;
}

function describeIssue(error: z.ZodError, layers: Layer[]): string {
  const issue = error.issues[0] ? decisiveIssue(error.issues[0]) : undefined;
  if (!issue) return 'moa config: invalid configuration';
  const keyPath = issue.path.map(String);
  // For an unknown key, the layer to blame is the one that holds that key.
  const blamed = issue.code === 'unrecognized_keys' ? [...keyPath, issue.keys[0] ?? ''] : keyPath;
  const layer = layers.find((l) => getPath(l.values, blamed) !== undefined);
  const variable = layer?.variables?.get(blamed.join('.'));
  const from = layer ? ` (from ${variable ? `${layer.source} variable ${variable}` : layer.source})` : '';
  if (issue.code === 'unrecognized_keys') {
    return `moa config: unknown key ${issue.keys.map((k) => [...keyPath, k].join('.')).join(', ')}${from}`;
  }
  const message = issue.message.replace(/^Invalid input: (expected \w+, received \w+)$/, '$1');
  const got = getPath(layer?.values, keyPath);
  // Never echo a credential back, even a malformed one (a redact pattern may spell out the secret it hides).
  const secret = /key|secret|token|password|header|redact/i.test(keyPath.join('.'));
  // A URL may carry a password (`https://user:pass@host`).
  const credentialUrl = typeof got === 'string' && /\/\/[^/]*@/.test(got);
  // What a `${VAR}` put in the value is shown as that reference: the variable may hold a key.
  const shown = got === undefined || secret || credentialUrl ? '' : `, got ${withReferences(JSON.stringify(got) ?? '', layer?.expansions).slice(0, 80)}`;
  return `moa config: ${keyPath.join('.') || '(root)'}${from}: ${message}${shown}`;
}

/**
 * The issue worth showing. A union (`redact`, `otlp.headers`) fails as a
 * whole with "expected A or B" when the value fits none of its shapes; but
 * when exactly one shape accepted the value's type and then found something
 * wrong inside (a bad pattern, a header with a line break), that finding is
 * what the user needs, at its own path.
 */
function decisiveIssue(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union' || !('errors' in issue)) return issue;
  const fitting = issue.errors.filter((branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0));
  const inner = fitting.length === 1 ? fitting[0]?.[0] : undefined;
  if (!inner) return issue;
  return decisiveIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue);
}

function getPath(obj: unknown, keys: string[]): unknown {
  let cur: unknown = obj;
  for (const k of keys) {
    if (cur == null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}
function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof RegExp);
}
function stripUndefined(v: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined));
}
