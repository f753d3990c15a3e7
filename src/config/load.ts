/**
 * Resolves the effective configuration: code options over environment over
 * `<home>/config.yaml` (section `moa:`), validated by one zod schema. A bad
 * value fails with one line naming the key, where it came from and what was
 * expected.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { otlpTracesUrl } from './otlp-url.js';
import { resolveHome, type Env } from './paths.js';
import type { MoaOptions } from './options.js';
import { moaConfigSchema, type MoaConfig } from './schema.js';

export class MoaConfigError extends Error {
  override readonly name = 'MoaConfigError';
}

export type { MoaOptions } from './options.js';

type Layer = { source: string; values: Record<string, unknown>; variables?: ReadonlyMap<string, string> };

export interface ResolveConfigContext {
  env?: Env;
  /** Skip reading the config file (tests, or callers that own configuration). */
  ignoreConfigFile?: boolean;
}

export function resolveConfig(options: MoaOptions = {}, context: ResolveConfigContext = {}): MoaConfig {
  const env = context.env ?? process.env;
  const code: Layer = { source: 'options', values: normalizeKeys(options as Record<string, unknown>) };
  const variables = new Map<string, string>();
  const fromEnv: Layer = { source: 'environment', values: readEnvLayer(env, variables), variables };
  const profile = (code.values.profile ?? fromEnv.values.profile) as string | undefined;
  const layers: Layer[] = [code, fromEnv];
  if (!context.ignoreConfigFile) {
    const file = readFileLayer(resolveHome(env, profile));
    if (file) layers.push(file);
  }

  const merged = mergeLayers(layers);
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
  set('profile', 'MOA_PROFILE');
  set('service_name', 'MOA_SERVICE_NAME');
  set('default_preset', 'MOA_PRESET');
  set('fanout', 'MOA_FANOUT');
  set('reference_timeout_ms', 'MOA_REFERENCE_TIMEOUT_MS');
  if (out.service_name === undefined && env.OTEL_SERVICE_NAME) out.service_name = env.OTEL_SERVICE_NAME;
  set('redact', 'MOA_REDACT');

  const otlp: Record<string, unknown> = {};
  if (env.MOA_OTLP_ENABLED) { otlp.enabled = env.MOA_OTLP_ENABLED; variables.set('otlp.enabled', 'MOA_OTLP_ENABLED'); }
  const endpoint = env.MOA_OTLP_ENDPOINT || traceEndpointFromOtelEnv(env);
  if (endpoint) otlp.endpoint = endpoint;
  const headers = env.OTEL_EXPORTER_OTLP_TRACES_HEADERS || env.OTEL_EXPORTER_OTLP_HEADERS;
  if (headers) otlp.headers = headers;
  if (env.MOA_OTLP_CAPTURE_CONTENT) { otlp.capture_content = env.MOA_OTLP_CAPTURE_CONTENT; variables.set('otlp.capture_content', 'MOA_OTLP_CAPTURE_CONTENT'); }
  if (env.MOA_OTLP_MAX_EXPORT_BYTES) { otlp.max_export_bytes = env.MOA_OTLP_MAX_EXPORT_BYTES; variables.set('otlp.max_export_bytes', 'MOA_OTLP_MAX_EXPORT_BYTES'); }
  if (Object.keys(otlp).length > 0) out.otlp = otlp;
  return out;
}

/**
 * The traces URL the OTLP/HTTP exporter should post to. The signal-specific
 * variable is used as is; the generic one gets `/v1/traces` appended, as the
 * OTLP exporter specification says.
 */
function traceEndpointFromOtelEnv(env: Env): string | undefined {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (specific) return specific;
  const generic = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (generic) return otlpTracesUrl(generic);
  return undefined;
}

function readFileLayer(home: string): Layer | undefined {
  const file = path.join(home, 'config.yaml');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
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
  const section = doc && typeof doc === 'object' ? (doc as Record<string, unknown>).moa : undefined;
  if (section == null) return undefined;
  if (typeof section !== 'object' || Array.isArray(section)) {
    throw new MoaConfigError(`${file}: moa: expected a mapping of options`);
  }
  return { source: file, values: normalizeKeys(section as Record<string, unknown>) };
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
        if (Array.isArray(e.references)) e.references = e.references.map((r) => (isPlainObject(r) ? snakeKeys(r) : r));
        if (isPlainObject(e.aggregator)) e.aggregator = snakeKeys(e.aggregator);
      }
      normalized[name] = e;
    }
    out[section] = normalized;
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
  const issue = error.issues[0];
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
  // Never echo a credential back, even a malformed one.
  const secret = /key|secret|token|password|header/i.test(keyPath.join('.'));
  const shown = got === undefined || secret ? '' : `, got ${JSON.stringify(got)?.slice(0, 80)}`;
  return `moa config: ${keyPath.join('.') || '(root)'}${from}: ${message}${shown}`;
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
function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
