/**
 * `createMoaClient`: an OpenAI-compatible facade over a Mixture-of-Agents
 * preset. `client.chat.completions.create(params)` takes chat-completions
 * params and returns what the `openai` package returns — a `ChatCompletion`,
 * or with `stream: true` a `Stream` of chunks — so an agent loop can use it in
 * place of an OpenAI client. Each call is one MoA iteration: advisory view →
 * reference fan-out (or cache HIT) → guidance block → aggregator.
 */
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
import { startMoaTurn, type MoaTurnStarter } from '../trace/instrumentation.js';
import { latestUserText } from '../content/genai.js';
import type { ChatMessage, FanoutMode } from '../trace/types.js';
import { buildAdvisoryView, referenceMessages, type AdvisoryMessage } from './advisory-view.js';
import { callAggregator } from './aggregator.js';
import { ReferenceCache } from './cache.js';
import { runFanout } from './fanout.js';
import { buildGuidanceMessage } from './guidance.js';
import { MoaSetupError, ProviderRegistry, SELF_PROVIDER, slotLabel, withoutTrailingSlash } from './providers.js';

export interface MoaModelSlot {
  provider: string;
  model: string;
  temperature?: number;
  /** An effort level (`low`, `high`) or a provider-specific `reasoning` object. */
  reasoning?: string | Record<string, unknown>;
  label?: string;
}

export interface MoaPreset {
  references: MoaModelSlot[];
  aggregator: MoaModelSlot;
  fanout?: FanoutMode | string;
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
  sessionId?: string | null;
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
}

/** Per-call extras, passed as the second argument of `create()`. */
export interface MoaRequestOptions {
  sessionId?: string | null;
  signal?: AbortSignal;
}

export interface MoaChatCompletions {
  create(params: ChatCompletionCreateParamsNonStreaming, options?: MoaRequestOptions): Promise<ChatCompletion>;
  create(params: ChatCompletionCreateParamsStreaming, options?: MoaRequestOptions): Promise<Stream<ChatCompletionChunk>>;
  create(
    params: ChatCompletionCreateParamsNonStreaming | ChatCompletionCreateParamsStreaming,
    options?: MoaRequestOptions,
  ): Promise<ChatCompletion | Stream<ChatCompletionChunk>>;
}

export interface MoaClient {
  chat: { completions: MoaChatCompletions };
  /** The resolved configuration (presets, providers, fan-out, ...). */
  readonly config: MoaConfig;
  /** Resolves the preset a `model` param selects, or throws `MoaSetupError`. */
  resolvePreset(model?: string): { name: string; preset: PresetConfig };
  /**
   * Resolves the preset and every provider it needs without calling anything:
   * throws `MoaSetupError` or `MissingApiKeyError` (which names the variable to set).
   */
  preflight(model?: string): { name: string; preset: PresetConfig };
  /** Forget cached reference outputs and iteration counters. */
  clearCache(): void;
}

/** The `model` value that always means "the default preset". */
export const DEFAULT_PRESET_MODEL = 'moa';

const CLIENT_ONLY_KEYS = ['sessionId', 'instrumentation', 'maxRetries', 'selfBaseURLs', 'env', 'ignoreConfigFile'] as const;

export function createMoaClient(options: MoaClientOptions = {}): MoaClient {
  const env = options.env ?? process.env;
  const configOptions: Record<string, unknown> = { ...options };
  for (const key of CLIENT_ONLY_KEYS) delete configOptions[key];
  const config = resolveConfig(configOptions as MoaOptions, { env, ignoreConfigFile: options.ignoreConfigFile ?? false });

  const providers = new ProviderRegistry({ providers: config.providers, env, maxRetries: options.maxRetries });
  const cache = new ReferenceCache();
  const selfBaseURLs = (options.selfBaseURLs ?? []).map(withoutTrailingSlash);

  const resolvePreset = (model?: string): { name: string; preset: PresetConfig } => {
    const names = Object.keys(config.presets);
    let name: string | undefined;
    if (model && model !== DEFAULT_PRESET_MODEL && config.presets[model]) name = model;
    else name = config.default_preset ?? (names.length === 1 ? names[0] : undefined);
    if (!name) {
      throw new MoaSetupError(names.length === 0
        ? 'no MoA presets configured (options.presets or `presets:` in the config file)'
        : `model "${model ?? ''}" names no preset and no default_preset is set (presets: ${names.join(', ')})`);
    }
    const preset = config.presets[name];
    if (!preset) throw new MoaSetupError(`default_preset "${name}" is not a configured preset (presets: ${names.join(', ')})`);
    refuseRecursion(name, preset, config, selfBaseURLs);
    return { name, preset };
  };

  async function create(
    params: ChatCompletionCreateParamsNonStreaming | ChatCompletionCreateParamsStreaming,
    requestOptions: MoaRequestOptions = {},
  ): Promise<ChatCompletion | Stream<ChatCompletionChunk>> {
    const { name: presetName, preset } = resolvePreset(params.model);
    const aggregatorProvider = providers.get(preset.aggregator.provider);
    const sessionId = requestOptions.sessionId !== undefined ? requestOptions.sessionId : options.sessionId ?? null;
    const fanout = preset.fanout ?? config.fanout;
    const messages = params.messages as unknown as readonly ChatMessage[];
    const viewOptions = { toolResultBudget: config.tool_result_budget };
    // Built at most once per call: `per_iteration` hashes it, a cache MISS sends it.
    let view: AdvisoryMessage[] | undefined;
    const advisoryView = () => (view ??= buildAdvisoryView(messages, viewOptions));

    const plan = cache.plan({
      sessionId, preset: presetName, fanout, messages, labels: preset.references.map(slotLabel), viewOptions, view: advisoryView,
    });
    const cached = cache.get(plan.key);
    const turn = startMoaTurn({
      sessionId,
      preset: presetName,
      fanout,
      cache: cached ? 'hit' : 'miss',
      iteration: plan.iteration,
      // The caller's latest question: what the turn answers (the guidance block comes after it).
      input: latestUserText(messages) ?? '',
      ...(options.instrumentation ? { instrumentation: options.instrumentation } : {}),
    });

    try {
      let outcomes = cached;
      if (!outcomes) {
        outcomes = await runFanout({
          turn,
          slots: preset.references,
          providers,
          messages: referenceMessages(advisoryView()),
          timeoutMs: config.reference_timeout_ms,
          signal: requestOptions.signal,
        });
        // An all-failed fan-out is not reused: the next iteration tries the advisors again.
        if (outcomes.some((o) => o.output !== null)) cache.set(plan.key, outcomes);
      }

      const guidance = buildGuidanceMessage({ preset: presetName, aggregatorLabel: slotLabel(preset.aggregator), references: outcomes });
      return await callAggregator({
        turn,
        slot: preset.aggregator,
        provider: aggregatorProvider,
        params,
        messages: [...messages, guidance],
        signal: requestOptions.signal,
      });
    } finally {
      // The root span ends once every call has: a returned stream keeps it open until the stream ends.
      turn.end();
    }
  }

  return {
    chat: { completions: { create: create as MoaChatCompletions['create'] } },
    config,
    resolvePreset,
    preflight: (model?: string) => {
      const resolved = resolvePreset(model);
      providers.checkPreset(resolved.preset);
      return resolved;
    },
    clearCache: () => cache.clear(),
  };
}

/** A slot that would call this client again is refused before anything runs. */
function refuseRecursion(presetName: string, preset: PresetConfig, config: MoaConfig, selfBaseURLs: readonly string[]): void {
  for (const slot of [...preset.references, preset.aggregator]) {
    const where = `preset "${presetName}" slot ${slotLabel(slot)}`;
    if (slot.provider === SELF_PROVIDER) {
      throw new MoaSetupError(`${where}: provider "${SELF_PROVIDER}" is this MoA client itself; references and the aggregator must be real models (no recursion)`);
    }
    const baseURL = config.providers[slot.provider]?.base_url;
    if (baseURL && selfBaseURLs.includes(withoutTrailingSlash(baseURL))) {
      throw new MoaSetupError(`${where}: provider "${slot.provider}" points at this MoA client (${baseURL}); no recursion`);
    }
  }
}
