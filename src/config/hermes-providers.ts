/**
 * Providers the original agent's `config.yaml` defines outside `moa:`, in
 * the shapes its loader reads, turned into moa-otel provider entries:
 *
 * - `providers: { <name>: { base_url | url | api, api_key, key_env, api_mode | transport, enabled } }`
 *   (a slot names it as `<name>`);
 * - `custom_providers: [ { name, base_url, api_key, key_env, api_mode } ]`
 *   (a slot names it as `custom:<name>`, lower case, spaces as dashes);
 * - `custom`: the main model's own endpoint (`model: { base_url, api_key }`),
 *   else the first custom provider, as the original falls back.
 *
 * The file is the agent's: an entry that cannot be used here is left out
 * with a notice (a slot naming it then fails as a reference would), never
 * failing the whole configuration.
 */
import { providerSchema } from './schema.js';

type Mapping = Record<string, unknown>;

export interface HermesProviders {
  providers: Record<string, Mapping>;
  notices: string[];
}

/** The original's transport names → the API we call. */
const API_MODES: Readonly<Record<string, 'chat_completions' | 'responses' | 'anthropic_messages' | 'bedrock_converse'>> = {
  chat_completions: 'chat_completions', openai: 'chat_completions', openai_chat: 'chat_completions', 'openai-chat': 'chat_completions',
  'chat-completions': 'chat_completions', chatcompletions: 'chat_completions',
  codex_responses: 'responses', responses: 'responses', openai_responses: 'responses', 'openai-responses': 'responses',
  anthropic_messages: 'anthropic_messages', anthropic: 'anthropic_messages', 'anthropic-messages': 'anthropic_messages', messages: 'anthropic_messages',
  bedrock_converse: 'bedrock_converse', bedrock: 'bedrock_converse', 'bedrock-converse': 'bedrock_converse',
};

const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** The slot name of a `custom_providers` entry, as the original builds it. */
export function customProviderSlug(name: string): string {
  return `custom:${name.trim().toLowerCase().replaceAll(' ', '-')}`;
}

export function readHermesProviders(doc: Mapping): HermesProviders {
  const providers: Record<string, Mapping> = {};
  const notices: string[] = [];
  const add = (key: string, entry: Mapping, at: string) => {
    const converted = convertEntry(entry, at, notices);
    if (converted) providers[key] = converted;
  };

  if (isMapping(doc.providers)) {
    for (const [rawKey, entry] of Object.entries(doc.providers)) {
      const key = rawKey.trim();
      if (key === '' || !isMapping(entry) || !enabled(entry)) continue;
      add(key, entry, `providers.${key}`);
    }
  }

  const custom = Array.isArray(doc.custom_providers) ? doc.custom_providers : [];
  if (doc.custom_providers !== undefined && doc.custom_providers !== null && !Array.isArray(doc.custom_providers)) {
    notices.push('custom_providers: expected a list of entries; ignored, as the original does');
  }
  let firstCustom: string | undefined;
  for (const [i, entry] of custom.entries()) {
    const name = isMapping(entry) && typeof entry.name === 'string' ? entry.name.trim() : '';
    if (name === '') continue;
    const slug = customProviderSlug(name);
    if (providers[slug]) continue;
    add(slug, entry as Mapping, `custom_providers[${i}] (${name})`);
    if (providers[slug]) firstCustom ??= slug;
  }

  const model = doc.model;
  if (isMapping(model) && urlOf(model) !== undefined) add('custom', model, 'model');
  else if (firstCustom && !providers.custom) providers.custom = { ...providers[firstCustom] };
  return { providers, notices };
}

function convertEntry(entry: Mapping, at: string, notices: string[]): Mapping | undefined {
  const url = urlOf(entry);
  if (url === undefined) {
    notices.push(`${at}: no base_url, url or api; left out`);
    return undefined;
  }
  const out: Mapping = { base_url: url };
  const apiKey = stringOf(entry.api_key) ?? stringOf(entry.apiKey);
  if (apiKey) out.api_key = apiKey;
  const keyEnv = stringOf(entry.key_env) ?? stringOf(entry.api_key_env) ?? stringOf(entry.keyEnv) ?? stringOf(entry.apiKeyEnv);
  if (keyEnv) out.api_key_env = keyEnv;
  const mode = stringOf(entry.api_mode) ?? stringOf(entry.transport) ?? stringOf(entry.apiMode);
  if (mode) {
    const api = API_MODES[mode.toLowerCase()];
    if (api === 'anthropic_messages' || api === 'bedrock_converse') {
      notices.push(`${at}: api_mode ${mode} is not an API moa-otel calls (chat completions or responses); left out`);
      return undefined;
    }
    if (api) out.api = api;
    else notices.push(`${at}: api_mode ${mode} is unknown; chat completions assumed`);
  }
  const parsed = providerSchema.safeParse(out);
  if (!parsed.success) {
    // Named by its unset variables, never shown: the variables that were set may have put a password or key in it.
    const unresolved = [...new Set(url.match(/\$\{[^}]+\}/g) ?? [])];
    notices.push(`${at}: ${unresolved.length > 0 ? `base_url names a variable that is not set (${unresolved.join(', ')})` : 'base_url is not an http(s) URL'}; left out`);
    return undefined;
  }
  return out;
}

function urlOf(entry: Mapping): string | undefined {
  for (const key of ['base_url', 'url', 'api', 'baseUrl']) {
    const value = stringOf(entry[key]);
    if (value) return value;
  }
  return undefined;
}

function enabled(entry: Mapping): boolean {
  const flag = entry.enabled;
  if (flag === undefined || flag === null) return true;
  if (typeof flag === 'boolean') return flag;
  if (typeof flag === 'string') return !FALSE_WORDS.has(flag.trim().toLowerCase());
  return Boolean(flag);
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
