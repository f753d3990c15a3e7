/**
 * `createMoaClient`: an OpenAI client whose `chat.completions.create` runs a
 * Mixture-of-Agents turn. It is a real instance of the `openai` package's
 * `OpenAI` class (the copy the application has), so frameworks that take an
 * OpenAI client take it without a cast; `create()` takes chat-completions
 * params and returns what the `openai` client returns — a `ChatCompletion`,
 * or with `stream: true` a `Stream` of chunks, on a promise with
 * `.withResponse()` / `.asResponse()` — plus a `moa` field telling what the
 * whole turn did and cost. Each call is one MoA iteration: advisory view →
 * reference fan-out (or cache HIT) → guidance block → aggregator.
 */
import { displayUrl } from '../config/otlp-url.js';
import OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import type { Stream } from 'openai/streaming';
import { resolveConfig, type MoaOptions } from '../config/load.js';
import type { Env } from '../config/paths.js';
import type { MoaConfig, PresetConfig } from '../config/schema.js';
import type { MoaTurnStarter } from '../trace/instrumentation.js';
import type { FanoutMode, SessionId } from '../trace/types.js';
import { MoaAPIPromise } from './api-promise.js';
import { ReferenceCache } from './cache.js';
import { activeReferences } from './preset.js';
import { MoaSetupError, ProviderRegistry, SELF_PROVIDER, slotLabel, withoutTrailingSlash, type UnusableReference } from './providers.js';
import type { MoaRequestOptions, UsageReport } from './request-options.js';
import type { MoaTurnReport } from './turn-report.js';
import { runMoaTurn } from './turn-runner.js';

export type { MoaRequestOptions, UsageReport } from './request-options.js';

export interface MoaModelSlot {
  provider: string;
  model: string;
  temperature?: number;
  /** An effort level (`low`, `high`) or a provider-specific `reasoning` object. */
  reasoning?: string | Record<string, unknown>;
  label?: string;
  /** A disabled reference is left out. */
  enabled?: boolean;
  /** Extra request-body fields for this model's calls. */
  extraBody?: Record<string, unknown>;
  extra_body?: Record<string, unknown>;
}

export interface MoaPreset {
  references?: MoaModelSlot[];
  aggregator: MoaModelSlot;
  fanout?: FanoutMode | string;
  /** A disabled preset is the aggregator alone. */
  enabled?: boolean;
  referenceTemperature?: number;
  aggregatorTemperature?: number;
  /** Seconds each reference may take. */
  referenceTimeout?: number;
  referenceMaxTokens?: number;
  referenceToolResultBudget?: number;
}

export interface MoaProvider {
  baseURL?: string;
  base_url?: string;
  /** Environment variable holding the key. */
  apiKeyEnv?: string;
  api_key_env?: string;
  apiKey?: string;
  api_key?: string;
  /** GenAI `gen_ai.provider.name` (openai, anthropic, ...); defaults to the provider name. */
  genAiProvider?: string;
  gen_ai_provider?: string;
  /** Covered by a subscription: cost status `included`. */
  included?: boolean;
  /** `responses`: call its models through the Responses API (default: chat completions). */
  api?: 'chat_completions' | 'responses';
}

export interface MoaClientOptions {
  presets?: Record<string, MoaPreset>;
  providers?: Record<string, MoaProvider>;
  defaultPreset?: string;
  fanout?: FanoutMode | string;
  /** Per-reference timeout. */
  referenceTimeoutMs?: number;
  /** Characters of a tool result shown to references before it is cut in the middle. */
  toolResultBudget?: number;
  /** Session id recorded on every turn (overridable per call). */
  sessionId?: SessionId;
  /**
   * What `usage` of a returned completion holds: `aggregator` (default) — the
   * acting model's own call, as an agent loop reads it to size its context;
   * `turn` — the totals of every call of the turn, for frameworks that bill
   * from `usage` alone. The `moa` field always has both.
   */
  usage?: UsageReport;
  /**
   * Records every turn (from `setupMoaTracing()` or `createMoaSpanProcessors()`).
   * Default: the plain instrumentation on the global tracer provider.
   */
  instrumentation?: MoaTurnStarter;
  /** Retries of the `openai` client per provider call (its default is 2). */
  maxRetries?: number;
  /** Base URLs under which this client is itself served; providers pointing there are refused. */
  selfBaseURLs?: string[];
  /** Environment for keys and configuration (defaults to `process.env`). */
  env?: Env;
  /** Do not read `<home>/config.yaml`. */
  ignoreConfigFile?: boolean;
  /** Where the notice about keys of the shared config file that moa-otel ignores goes (default stderr). */
  notice?: (line: string) => void;
}

/**
 * A chat message as both the `openai` 6 and 7 types describe one: structural,
 * one shape per role, so either version's arrays (and plain literals) fit
 * these overloads before the `openai` package's own.
 */
export type MoaMessageParam =
  | { role: 'system' | 'developer'; content: unknown; name?: string }
  | { role: 'user'; content: unknown; name?: string }
  | {
    role: 'assistant'; content?: unknown; name?: string; refusal?: string | null;
    tool_calls?: readonly unknown[]; audio?: unknown; function_call?: unknown;
  }
  | { role: 'tool'; content: unknown; tool_call_id: string }
  | { role: 'function'; content: unknown; name: string };

/** A tool definition of either `openai` version. */
export type MoaToolParam = { type: 'function'; function: unknown } | { type: 'custom'; custom: unknown };

type WithStructuralMessages<P> = Omit<P, 'messages' | 'tools'> & { messages: readonly MoaMessageParam[]; tools?: readonly MoaToolParam[] };
export type MoaChatCompletionCreateParamsNonStreaming = WithStructuralMessages<ChatCompletionCreateParamsNonStreaming>;
export type MoaChatCompletionCreateParamsStreaming = WithStructuralMessages<ChatCompletionCreateParamsStreaming>;
export type MoaChatCompletionCreateParams = MoaChatCompletionCreateParamsNonStreaming | MoaChatCompletionCreateParamsStreaming;

/** A completion with what the whole turn did and cost. */
export type MoaChatCompletion = ChatCompletion & { moa: MoaTurnReport };
/** A chunk; the last one the caller gets carries `moa`. */
export type MoaChatCompletionChunk = ChatCompletionChunk & { moa?: MoaTurnReport };

export interface MoaChatCompletions {
  create(params: MoaChatCompletionCreateParamsNonStreaming, options?: MoaRequestOptions): MoaAPIPromise<MoaChatCompletion>;
  create(params: MoaChatCompletionCreateParamsStreaming, options?: MoaRequestOptions): MoaAPIPromise<Stream<MoaChatCompletionChunk>>;
  create(params: MoaChatCompletionCreateParams, options?: MoaRequestOptions): MoaAPIPromise<MoaChatCompletion | Stream<MoaChatCompletionChunk>>;
}

/**
 * An `OpenAI` client (of the application's `openai` package) whose
 * `chat.completions.create` runs MoA turns. Its other endpoints are not
 * served: calling one fails with a clear 404.
 */
export interface MoaClient extends OpenAI {
  // Our overloads first: the structural params match before the `openai` package's own.
  chat: { completions: MoaChatCompletions } & OpenAI['chat'];
  /** The resolved configuration (presets, providers, fan-out, ...). */
  readonly config: MoaConfig;
  /** Resolves the preset a `model` param selects, or throws `MoaSetupError`. */
  resolvePreset(model?: string): { name: string; preset: PresetConfig };
  /**
   * Resolves the preset and every provider it needs without calling anything:
   * throws `MoaSetupError` or `MissingApiKeyError` (which names the variable
   * to set) when the aggregator cannot be called; references that cannot be
   * are listed (each will be a failed reference, and the turn goes on).
   */
  preflight(model?: string): { name: string; preset: PresetConfig; unusableReferences: UnusableReference[] };
  /** Forget cached reference outputs and iteration counters. */
  clearCache(): void;
}

/** The `model` value that always means "the default preset". */
export const DEFAULT_PRESET_MODEL = 'moa';

/** Where the client says it lives; nothing is ever sent there (`.invalid` never resolves, and requests are refused first). */
const MOA_BASE_URL = 'http://moa-otel.invalid/v1';

const CLIENT_ONLY_KEYS = ['sessionId', 'instrumentation', 'maxRetries', 'selfBaseURLs', 'env', 'ignoreConfigFile', 'usage', 'notice'] as const;

export function createMoaClient(options: MoaClientOptions = {}): MoaClient {
  const env = options.env ?? process.env;
  const configOptions: Record<string, unknown> = { ...options };
  for (const key of CLIENT_ONLY_KEYS) delete configOptions[key];
  const config = resolveConfig(configOptions as MoaOptions, {
    env, ignoreConfigFile: options.ignoreConfigFile ?? false, ...(options.notice ? { notice: options.notice } : {}),
  });

  const providers = new ProviderRegistry({ providers: config.providers, env, maxRetries: options.maxRetries });
  const cache = new ReferenceCache();
  const selfBaseURLs = (options.selfBaseURLs ?? []).map(withoutTrailingSlash);

  const resolvePreset = (model?: string): { name: string; preset: PresetConfig } => {
    const names = Object.keys(config.presets);
    let name: string | undefined;
    if (model && model !== DEFAULT_PRESET_MODEL && config.presets[model]) name = model;
    else name = defaultPresetName(config);
    if (!name) throw new MoaSetupError('no MoA presets configured (options.presets or `presets:` in the config file)');
    const preset = config.presets[name];
    if (!preset) throw new MoaSetupError(`default_preset "${name}" is not a configured preset (presets: ${names.join(', ')})`);
    refuseRecursion(name, preset, config, selfBaseURLs);
    return { name, preset };
  };

  const client = new OpenAI({ apiKey: 'moa-otel', baseURL: MOA_BASE_URL, maxRetries: 0, fetch: refuseOtherEndpoints }) as MoaClient;
  const create = (params: MoaChatCompletionCreateParams, requestOptions?: MoaRequestOptions | null) => new MoaAPIPromise(runMoaTurn({
    config, providers, cache, resolvePreset,
    sessionId: options.sessionId ?? null,
    usage: options.usage ?? 'aggregator',
    ...(options.instrumentation ? { instrumentation: options.instrumentation } : {}),
  }, params, requestOptions ?? {}));
  // An own property shadows the class's `create`: everything else of the client stays the `openai` package's.
  (client.chat.completions as unknown as { create: typeof create }).create = create;
  Object.defineProperties(client, {
    config: { value: config, enumerable: false },
    resolvePreset: { value: resolvePreset, enumerable: false },
    preflight: {
      value: (model?: string) => {
        const resolved = resolvePreset(model);
        return { ...resolved, unusableReferences: providers.checkPreset(activeSlots(resolved.preset)) };
      },
      enumerable: false,
    },
    clearCache: { value: () => cache.clear(), enumerable: false },
  });
  return client;
}

/** The preset `model: "moa"` means: the original's `active_preset` when it names one, else `default_preset`, else the first. */
function defaultPresetName(config: MoaConfig): string | undefined {
  const active = config.active_preset?.trim();
  if (active && config.presets[active]) return active;
  return config.default_preset ?? Object.keys(config.presets)[0];
}

function activeSlots(preset: PresetConfig): PresetConfig {
  return { ...preset, references: activeReferences(preset) };
}

/** A slot that would call this client again is refused before anything runs (a `moa` reference is skipped at run time instead). */
function refuseRecursion(presetName: string, preset: PresetConfig, config: MoaConfig, selfBaseURLs: readonly string[]): void {
  if (preset.aggregator.provider === SELF_PROVIDER) {
    throw new MoaSetupError(`preset "${presetName}" slot ${slotLabel(preset.aggregator)}: provider "${SELF_PROVIDER}" is this MoA client itself; the aggregator must be a real model (no recursion)`);
  }
  for (const slot of [...activeReferences(preset), preset.aggregator]) {
    const baseURL = config.providers[slot.provider]?.base_url;
    if (baseURL && selfBaseURLs.includes(withoutTrailingSlash(baseURL))) {
      throw new MoaSetupError(`preset "${presetName}" slot ${slotLabel(slot)}: provider "${slot.provider}" points at this MoA client (${displayUrl(baseURL)}); no recursion`);
    }
  }
}

/** Only `chat.completions.create` is a MoA turn; any other endpoint of the client answers with a clear error. */
async function refuseOtherEndpoints(input: string | URL | Request): Promise<Response> {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  const message = `the MoA client serves chat.completions.create only; ${url.pathname.replace(/^\/v1/, '')} is not a MoA endpoint`;
  return new Response(JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: 'moa_unsupported_endpoint' } }), {
    status: 404, headers: { 'content-type': 'application/json' },
  });
}
