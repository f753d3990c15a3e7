/**
 * `createMoaClient`: an OpenAI-compatible facade over a Mixture-of-Agents
 * preset. `client.chat.completions.create(params)` takes chat-completions
 * params and returns what the `openai` package returns — a `ChatCompletion`,
 * or with `stream: true` a `Stream` of chunks — so an agent loop can use it in
 * place of an OpenAI client. Each call is one MoA iteration: advisory view →
 * reference fan-out (or cache HIT) → guidance block → aggregator.
 */
import type { Tracer } from '@opentelemetry/api';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageToolCall,
} from 'openai/resources/chat/completions';
import { Stream } from 'openai/streaming';
import { resolveConfig, type MoaOptions } from '../config/load.js';
import type { Env } from '../config/paths.js';
import type { MoaConfig, PresetConfig } from '../config/schema.js';
import { startMoaTurn } from '../trace/turn.js';
import type { AggregatorCall, ChatMessage, FanoutMode, MoaTurn, ToolCall } from '../trace/types.js';
import { buildAdvisoryView, referenceMessages } from './advisory-view.js';
import { ReferenceCache } from './cache.js';
import { runFanout } from './fanout.js';
import { buildGuidanceMessage, type ReferenceOutcome } from './guidance.js';
import { priceCall } from './pricing.js';
import { MoaSetupError, ProviderRegistry, SELF_PROVIDER, reasoningParams, slotLabel, type ResolvedProvider } from './providers.js';
import { streamEnd, teeChunks } from './stream.js';
import { normalizeUsage } from './usage.js';

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
  /** Defaults to the global tracer. */
  tracer?: Tracer;
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
  /** Forget cached reference outputs and iteration counters. */
  clearCache(): void;
}

/** The `model` value that always means "the default preset". */
export const DEFAULT_PRESET_MODEL = 'moa';

const CLIENT_ONLY_KEYS = ['sessionId', 'tracer', 'maxRetries', 'selfBaseURLs', 'env', 'ignoreConfigFile'] as const;

export function createMoaClient(options: MoaClientOptions = {}): MoaClient {
  const env = options.env ?? process.env;
  const configOptions: MoaOptions = { ...options };
  for (const key of CLIENT_ONLY_KEYS) delete configOptions[key];
  const config = resolveConfig(configOptions, { env, ignoreConfigFile: options.ignoreConfigFile ?? false });

  const providers = new ProviderRegistry({
    providers: config.providers,
    env,
    ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
    ...(options.selfBaseURLs ? { selfBaseURLs: options.selfBaseURLs } : {}),
  });
  const cache = new ReferenceCache();
  const selfBaseURLs = (options.selfBaseURLs ?? []).map((u) => u.replace(/\/+$/, ''));

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
    const labels = preset.references.map(slotLabel);

    const plan = cache.plan({ sessionId, preset: presetName, fanout, messages, labels, viewOptions });
    const cached = cache.get(plan.key);
    const turn = startMoaTurn({
      sessionId,
      preset: presetName,
      fanout,
      cache: cached ? 'hit' : 'miss',
      iteration: plan.iteration,
      ...(options.tracer ? { tracer: options.tracer } : {}),
    });

    let outcomes: ReferenceOutcome[];
    if (cached) {
      outcomes = cached;
    } else {
      outcomes = await runFanout({
        turn,
        slots: preset.references,
        providers,
        messages: referenceMessages(buildAdvisoryView(messages, viewOptions)),
        timeoutMs: config.reference_timeout_ms,
        ...(requestOptions.signal ? { signal: requestOptions.signal } : {}),
      });
      // An all-failed fan-out is not reused: the next iteration tries the advisors again.
      if (outcomes.some((o) => o.output !== null)) cache.set(plan.key, outcomes);
    }

    const aggregatorLabel = slotLabel(preset.aggregator);
    const aggregatorMessages: ChatMessage[] = [
      ...messages,
      buildGuidanceMessage({ preset: presetName, aggregatorLabel, references: outcomes }),
    ];
    const slot = preset.aggregator;
    const temperature = slot.temperature ?? params.temperature ?? undefined;
    const agg = turn.startAggregator({
      label: aggregatorLabel,
      model: slot.model,
      provider: aggregatorProvider.name,
      genAiProvider: aggregatorProvider.genAiProvider,
      temperature: temperature ?? null,
      messages: aggregatorMessages,
      stream: params.stream === true,
      ...(aggregatorProvider.serverAddress ? { serverAddress: aggregatorProvider.serverAddress } : {}),
      ...(aggregatorProvider.serverPort ? { serverPort: aggregatorProvider.serverPort } : {}),
    });

    const body: Record<string, unknown> = {
      ...params,
      model: slot.model,
      messages: aggregatorMessages,
      ...(temperature !== undefined ? { temperature } : {}),
      ...reasoningParams(slot),
    };
    const price = (rawUsage: unknown, model: string) => priceCall({
      provider: aggregatorProvider.name,
      genAiProvider: aggregatorProvider.genAiProvider,
      baseURL: aggregatorProvider.baseURL,
      model,
      usage: normalizeUsage(rawUsage)?.usage ?? null,
      rawUsage,
      included: aggregatorProvider.included,
    });

    if (params.stream === true) {
      return streamAggregator({ body, params, provider: aggregatorProvider, turn, agg, price, model: slot.model, signal: requestOptions.signal });
    }
    try {
      const response = (await aggregatorProvider.client.chat.completions.create(
        body as unknown as ChatCompletionCreateParamsNonStreaming,
        requestOptions.signal ? { signal: requestOptions.signal } : undefined,
      )) as ChatCompletion;
      const choice = response.choices?.[0];
      const toolCalls = choice?.message?.tool_calls ?? [];
      agg.end({
        output: choice?.message?.content ?? null,
        usage: normalizeUsage(response.usage)?.usage ?? null,
        cost: price(response.usage, slot.model),
        toolCalls: toolCalls.length > 0 ? toolCalls.map(toRecordedToolCall) : null,
        finishReason: choice?.finish_reason ?? null,
        response: {
          id: response.id ?? null,
          model: response.model ?? null,
          finishReasons: (response.choices ?? []).map((c) => c.finish_reason).filter((r): r is NonNullable<typeof r> => r != null),
        },
      });
      return response;
    } catch (err) {
      agg.fail(err);
      throw err;
    } finally {
      turn.end();
    }
  }

  return {
    chat: { completions: { create: create as MoaChatCompletions['create'] } },
    config,
    resolvePreset,
    clearCache: () => cache.clear(),
  };
}

interface StreamArgs {
  body: Record<string, unknown>;
  params: ChatCompletionCreateParamsStreaming;
  provider: ResolvedProvider;
  turn: MoaTurn;
  agg: AggregatorCall;
  price: (rawUsage: unknown, model: string) => ReturnType<typeof priceCall>;
  model: string;
  signal: AbortSignal | undefined;
}

/**
 * Streams the aggregator. We ask for the usage chunk even when the caller did
 * not (cost needs it) and then hold that one chunk back, so the caller sees
 * exactly the stream it asked for.
 */
async function streamAggregator(args: StreamArgs): Promise<Stream<ChatCompletionChunk>> {
  const { body, params, provider, turn, agg, price, model } = args;
  const callerWantsUsage = params.stream_options?.include_usage === true;
  const requestBody = { ...body, stream: true, stream_options: { ...(params.stream_options ?? {}), include_usage: true } };
  let source: Stream<ChatCompletionChunk>;
  try {
    source = await provider.client.chat.completions.create(
      requestBody as unknown as ChatCompletionCreateParamsStreaming,
      args.signal ? { signal: args.signal } : undefined,
    );
  } catch (err) {
    agg.fail(err);
    turn.end();
    throw err;
  }
  const tee = teeChunks(source, {
    firstChunk: () => agg.firstChunk(),
    finish: ({ assembler }) => {
      agg.end(streamEnd(assembler, { cost: price(assembler.rawUsage, model) }));
      turn.end();
    },
    fail: (error) => {
      agg.fail(error);
      turn.end();
    },
    hideChunk: (chunk) => !callerWantsUsage && (chunk.choices?.length ?? 0) === 0 && chunk.usage != null,
    abortSource: () => source.controller.abort(),
  });
  return new Stream<ChatCompletionChunk>(() => tee, source.controller);
}

/** Function tool calls as they are; custom tool calls keep their input under `function.arguments`. */
function toRecordedToolCall(call: ChatCompletionMessageToolCall): ToolCall {
  if (call.type === 'function') return { ...call, function: { ...call.function } };
  return { ...call, function: { name: call.custom.name, arguments: call.custom.input } };
}

/** A slot that would call this client again is refused before anything runs. */
function refuseRecursion(presetName: string, preset: PresetConfig, config: MoaConfig, selfBaseURLs: readonly string[]): void {
  for (const slot of [...preset.references, preset.aggregator]) {
    const where = `preset "${presetName}" slot ${slotLabel(slot)}`;
    if (slot.provider === SELF_PROVIDER) {
      throw new MoaSetupError(`${where}: provider "${SELF_PROVIDER}" is this MoA client itself; references and the aggregator must be real models (no recursion)`);
    }
    const baseURL = config.providers[slot.provider]?.base_url.replace(/\/+$/, '');
    if (baseURL && selfBaseURLs.includes(baseURL)) {
      throw new MoaSetupError(`${where}: provider "${slot.provider}" points at this MoA client (${baseURL}); no recursion`);
    }
  }
}
