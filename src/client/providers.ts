/**
 * Providers: named OpenAI-compatible endpoints, each reached with its own
 * instance of the official `openai` client. Keys come from the config
 * (`api_key`) or an environment variable (`api_key_env`) and never leave this
 * module: nothing here is put on a span or into a record, and every provider
 * error is masked of every configured key before anyone sees it.
 */
import OpenAI from 'openai';
import type { ModelSlotConfig, PresetConfig, ProviderConfig } from '../config/schema.js';
import type { Env } from '../config/paths.js';
import { customProviderSlug } from '../config/hermes-providers.js';
import { KnownSecrets } from '../content/known-secrets.js';
import { knownProvider } from './known-providers.js';

/**
 * The provider name that means "this MoA client". A slot naming it would make
 * the client call itself, so it is refused.
 */
export const SELF_PROVIDER = 'moa';

export class MoaSetupError extends Error {
  override readonly name: string = 'MoaSetupError';
}

/** A needed API key is missing; `envVar` names the variable to set. */
export class MissingApiKeyError extends MoaSetupError {
  override readonly name = 'MissingApiKeyError';
  constructor(readonly provider: string, readonly envVar: string) {
    super(`provider "${provider}" needs an API key: set ${envVar}`);
  }
}

/** A slot's provider that cannot be called here (signed-in only, or no endpoint); `reason` says why. */
export class ProviderUnusableError extends MoaSetupError {
  override readonly name = 'ProviderUnusableError';
}

/** A reference slot of a preset that will fail, and why (the turn goes on without it). */
export interface UnusableReference {
  label: string;
  provider: string;
  reason: string;
}

export interface ResolvedProvider {
  name: string;
  genAiProvider: string;
  baseURL: string;
  /** The API its models are called through. */
  api: 'chat_completions' | 'responses';
  serverAddress?: string;
  serverPort?: number;
  included: boolean;
  client: OpenAI;
  /**
   * Masks every configured API key (of every provider: a gateway may echo
   * another one) in a provider error and returns the masked error: the same
   * object, masked in place, unless it refused changes (then a masked copy).
   * Callers record and throw what it returns. See `KnownSecrets.error`.
   */
  scrub(error: unknown): unknown;
}

export interface ProviderRegistryOptions {
  providers: Record<string, ProviderConfig>;
  env: Env;
  maxRetries?: number;
}

/** No key configured: the `openai` client still wants one, and this one is no secret. */
const NO_KEY_PLACEHOLDER = 'no-key-needed';

export class ProviderRegistry {
  readonly #clients = new Map<string, ResolvedProvider>();
  #secrets: KnownSecrets;

  constructor(private readonly options: ProviderRegistryOptions) {
    this.#secrets = new KnownSecrets(configuredApiKeys(options.providers, options.env));
  }

  /** Masks every configured API key in a thrown value; see `KnownSecrets.error`. */
  scrub(error: unknown): unknown {
    return this.#secrets.error(error);
  }

  /**
   * Throws `MoaSetupError` (unknown provider) or `MissingApiKeyError`. Slots
   * that would call the MoA client itself are refused earlier, per preset, by
   * the client.
   */
  get(name: string): ResolvedProvider {
    const cached = this.#clients.get(name);
    if (cached) return cached;
    const { baseURL, apiKey, genAiProvider, included, api } = this.endpoint(name);
    // The environment may have gained the key since the registry was built.
    if (apiKey !== NO_KEY_PLACEHOLDER && !this.#secrets.has(apiKey)) this.#secrets = this.#secrets.with(apiKey);
    const url = safeUrl(baseURL);
    const resolved: ResolvedProvider = {
      name,
      genAiProvider,
      baseURL,
      ...(url ? { serverAddress: url.hostname, serverPort: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80 } : {}),
      included,
      api,
      client: new OpenAI({ baseURL, apiKey, maxRetries: this.options.maxRetries ?? 2 }),
      scrub: (error) => this.scrub(error),
    };
    this.#clients.set(name, resolved);
    return resolved;
  }

  /** A configured provider, else one the original agent knows by name, resolved from the environment. */
  private endpoint(name: string): { baseURL: string; apiKey: string; genAiProvider: string; included: boolean; api: ResolvedProvider['api'] } {
    const known = knownProvider(name);
    const config = this.configured(name);
    if (config) {
      return {
        baseURL: withoutTrailingSlash(config.base_url),
        apiKey: resolveApiKey(name, config, this.options.env),
        genAiProvider: config.gen_ai_provider ?? known?.genAiProvider ?? name,
        included: config.included ?? false,
        // A known provider's own API (openai-codex speaks Responses) unless the entry says otherwise.
        api: config.api ?? (known?.api === 'responses' ? 'responses' : 'chat_completions'),
      };
    }
    if (known?.signIn) {
      throw new ProviderUnusableError(`provider "${name}" is reached through ${known.signIn}, which moa-otel cannot use; `
        + `to call it, define "${name}" under providers: with a base_url and an api_key`);
    }
    if (!known) {
      const configured = Object.keys(this.options.providers);
      throw new MoaSetupError(`unknown provider "${name}"${configured.length ? ` (configured: ${configured.join(', ')})` : ' (no providers configured)'}; `
        + 'define it under providers: with its base_url');
    }
    const env = this.options.env;
    const baseURL = (known.baseURLEnv && nonEmpty(env[known.baseURLEnv])) || known.baseURL;
    if (!baseURL) throw new ProviderUnusableError(`provider "${name}" needs its endpoint: set ${known.baseURLEnv ?? 'its base URL under providers:'}`);
    const keyVar = known.keyEnv.find((v) => nonEmpty(env[v]));
    if (!keyVar && !known.keyOptional) throw new MissingApiKeyError(name, known.keyEnv.join(' or '));
    return {
      baseURL: withoutTrailingSlash(baseURL),
      apiKey: keyVar ? (env[keyVar] as string) : NO_KEY_PLACEHOLDER,
      genAiProvider: known.genAiProvider,
      included: false,
      api: known.api === 'responses' ? 'responses' : 'chat_completions',
    };
  }

  /**
   * The aggregator's provider. It answers the caller's chat-completions
   * request; one that speaks the Responses API gets it translated
   * (`aggregator-wire.ts`). Unlike a reference it cannot be skipped, so a
   * provider that cannot be called throws here, with the reason.
   */
  aggregator(name: string): ResolvedProvider {
    return this.get(name);
  }

  /** A configured entry by its name; `custom:<Name>` also as the original spells its slug (lower case, dashes). */
  private configured(name: string): ProviderConfig | undefined {
    const providers = this.options.providers;
    if (Object.hasOwn(providers, name)) return providers[name];
    // The original matches names from the config file without regard to case.
    const lower = name.trim().toLowerCase();
    if (Object.hasOwn(providers, lower)) return providers[lower];
    const slug = name.trim().toLowerCase().startsWith('custom:') ? customProviderSlug(name.trim().slice('custom:'.length)) : undefined;
    return slug && Object.hasOwn(providers, slug) ? providers[slug] : undefined;
  }

  /**
   * Resolves the aggregator's provider up front (it must answer: throws
   * `MoaSetupError`, `MissingApiKeyError` or `ProviderUnusableError`) and
   * says which references cannot be called: those fail at run time with the
   * same reason, and the turn goes on without them, as in the original.
   */
  checkPreset(preset: PresetConfig): UnusableReference[] {
    this.aggregator(preset.aggregator.provider);
    const unusable: UnusableReference[] = [];
    for (const slot of preset.references) {
      // A reference naming the MoA client itself is skipped at run time, not an error.
      if (slot.provider === SELF_PROVIDER) continue;
      try {
        this.get(slot.provider);
      } catch (err) {
        unusable.push({ label: slotLabel(slot), provider: slot.provider, reason: err instanceof Error ? err.message : String(err) });
      }
    }
    return unusable;
  }
}

/**
 * `api_key` wins, then `api_key_env`. A provider with neither is assumed to
 * need no key (a local server) and gets a placeholder, because the `openai`
 * client refuses to start without one.
 */
function resolveApiKey(name: string, config: ProviderConfig, env: Env): string {
  if (config.api_key) return config.api_key;
  if (config.api_key_env) {
    const value = env[config.api_key_env];
    if (!value) throw new MissingApiKeyError(name, config.api_key_env);
    return value;
  }
  return NO_KEY_PLACEHOLDER;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value : undefined;
}

/** Every API key the configuration holds, directly or through a set variable. */
export function configuredApiKeys(providers: Record<string, ProviderConfig>, env: Env): string[] {
  const keys: string[] = [];
  for (const config of Object.values(providers)) {
    if (config.api_key) keys.push(config.api_key);
    const fromEnv = config.api_key_env ? env[config.api_key_env] : undefined;
    if (fromEnv) keys.push(fromEnv);
  }
  return keys;
}

export function slotLabel(slot: ModelSlotConfig): string {
  return slot.label ?? `${slot.provider}:${slot.model}`;
}

/** Slot `reasoning`: a string is an effort level; an object is sent as the provider's `reasoning` field. */
export function reasoningParams(slot: ModelSlotConfig): Record<string, unknown> {
  if (slot.reasoning === undefined) return {};
  if (typeof slot.reasoning === 'string') return { reasoning_effort: slot.reasoning };
  return { reasoning: slot.reasoning };
}

export function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
