/**
 * One MoA iteration behind `chat.completions.create`: resolve the preset,
 * plan the reference cache, fan out (or reuse the advice), build the guidance
 * block, call the aggregator, and tell the caller what the turn did and cost
 * (the `moa` field, and `usage` as turn totals when asked).
 */
import { isSpanContextValid } from '@opentelemetry/api';
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { Stream } from 'openai/streaming';
import type { MoaConfig, PresetConfig } from '../config/schema.js';
import { latestUserText } from '../content/genai.js';
import { Redactor } from '../content/redact.js';
import { startMoaTurn, type MoaTurnStarter } from '../trace/instrumentation.js';
import type { ChatMessage, MoaTurn, ReusedReference, SessionId } from '../trace/types.js';
import { buildAdvisoryView, referenceMessages, type AdvisoryMessage } from './advisory-view.js';
import { aggregatorBody, callAggregator, type AggregatorParams } from './aggregator.js';
import { assertWireCarries } from './aggregator-wire.js';
import type { TurnOutcome } from './api-promise.js';
import type { ReferenceCache } from './cache.js';
import type { CallMetering } from './call-facts.js';
import { activeReferences } from './preset.js';
import { runFanout } from './fanout.js';
import { buildGuidanceMessage, type ReferenceOutcome } from './guidance.js';
import { slotLabel, type ProviderRegistry } from './providers.js';
import { headerMap, providerCallOptions, SESSION_HEADER, type MoaRequestOptions, type UsageReport } from './request-options.js';
import { buildTurnReport, turnUsage, withTurnCost, type CallFacts, type MoaTurnReport } from './turn-report.js';

export interface TurnRunnerContext {
  config: MoaConfig;
  providers: ProviderRegistry;
  cache: ReferenceCache;
  resolvePreset(model?: string): { name: string; preset: PresetConfig };
  sessionId: SessionId;
  usage: UsageReport;
  instrumentation?: MoaTurnStarter;
}

/** The caller's params as far as the turn reads them; every other field goes to the aggregator as given. */
type TurnParams = AggregatorParams & { model?: string; messages: readonly unknown[] };

type Completion = ChatCompletion & { moa: MoaTurnReport };
type Chunk = ChatCompletionChunk & { moa?: MoaTurnReport };

export async function runMoaTurn(
  ctx: TurnRunnerContext,
  params: TurnParams,
  options: MoaRequestOptions,
): Promise<TurnOutcome<Completion | Stream<Chunk>>> {
  const { config, cache } = ctx;
  const { name: presetName, preset } = ctx.resolvePreset(params.model);
  const references = activeReferences(preset);
  const aggregatorProvider = ctx.providers.aggregator(preset.aggregator.provider);
  const sessionId = options.sessionId !== undefined ? options.sessionId : headerMap(options.headers).get(SESSION_HEADER) ?? ctx.sessionId;
  const fanout = preset.fanout ?? config.fanout;
  const messages = params.messages as readonly ChatMessage[];
  // A request the aggregator's API cannot carry (`n: 2` through the Responses API) fails before any advisor is paid.
  assertWireCarries(aggregatorProvider, aggregatorBody(preset.aggregator, params, messages, preset.aggregator_temperature));
  const viewOptions = { toolResultBudget: preset.reference_tool_result_budget ?? config.tool_result_budget };
  const callOptions = providerCallOptions(options);
  const usageMode = options.usage ?? ctx.usage;
  // Built at most once per call: `per_iteration` hashes it, a cache MISS sends it.
  let view: AdvisoryMessage[] | undefined;
  const advisoryView = () => (view ??= buildAdvisoryView(messages, viewOptions));

  const plan = cache.plan({
    sessionId, preset: presetName, fanout, messages, labels: references.map(slotLabel), viewOptions, view: advisoryView,
  });
  // No references (a disabled preset, or none enabled): nothing to reuse, every iteration is its own.
  const cached = references.length > 0 ? cache.get(plan.key) : undefined;
  const turn = startMoaTurn({
    sessionId,
    preset: presetName,
    fanout,
    cache: cached ? 'hit' : 'miss',
    iteration: plan.iteration,
    // A HIT reuses advice: its aggregator links to the spans that gave it.
    ...(cached ? { reusedReferences: reusedReferences(cached) } : {}),
    // The caller's latest question: what the turn answers (the guidance block comes after it).
    input: latestUserText(messages) ?? '',
    ...(ctx.instrumentation ? { instrumentation: ctx.instrumentation } : {}),
  });

  try {
    let outcomes: ReferenceOutcome[] = cached ?? [];
    if (!cached && references.length > 0) {
      outcomes = await runFanout({
        turn,
        slots: references,
        providers: ctx.providers,
        messages: referenceMessages(advisoryView()),
        timeoutMs: preset.reference_timeout !== undefined ? preset.reference_timeout * 1000 : config.reference_timeout_ms,
        ...(preset.reference_temperature !== undefined ? { temperature: preset.reference_temperature } : {}),
        ...(preset.reference_max_tokens !== undefined ? { maxTokens: preset.reference_max_tokens } : {}),
        callOptions,
      });
      // An all-failed fan-out is not reused: the next iteration tries the advisors again.
      if (outcomes.some((o) => o.output !== null)) cache.set(plan.key, outcomes);
    }

    // The aggregator alone gets the caller's conversation unchanged: there is no advice to add.
    const aggregatorMessages = references.length === 0 ? messages : [...messages, buildGuidanceMessage({
      preset: presetName,
      aggregatorLabel: slotLabel(preset.aggregator),
      references: config.privacy_filter === 'full' ? maskedNotes(outcomes, config) : outcomes,
    })];
    const report = (aggregator: CallMetering | undefined) => buildTurnReport({
      traceId: traceIdOf(turn), sessionId, preset: presetName, fanout, iteration: plan.iteration, cache: cached ? 'hit' : 'miss',
    }, [
      ...outcomes.map((o): CallFacts => ({
        role: 'reference', label: o.label, provider: o.provider, model: o.model, cached: cached !== undefined,
        called: cached === undefined && o.skipped !== true,
        ...(cached ? {} : { metering: o.metering, error: o.failure ?? null }),
      })),
      {
        role: 'aggregator', label: slotLabel(preset.aggregator), provider: preset.aggregator.provider, model: preset.aggregator.model,
        called: true,
        ...(aggregator ? { metering: aggregator } : {}),
      },
    ]);
    const callerWantsUsage = params.stream_options?.include_usage === true;

    const result = await callAggregator({
      turn,
      slot: preset.aggregator,
      provider: aggregatorProvider,
      params,
      messages: aggregatorMessages,
      ...(preset.aggregator_temperature !== undefined ? { temperature: preset.aggregator_temperature } : {}),
      callOptions,
      completeFinalChunk: (chunk, metering) => {
        const moa = report(metering);
        // The usage chunk the caller asked for holds the turn's totals in `turn` mode, and the turn's dollars in any mode.
        const usage = callerWantsUsage && chunk.usage ? { usage: usageMode === 'turn' ? turnUsage(moa) : withTurnCost(chunk.usage, moa) } : {};
        return { ...chunk, ...usage, moa } as Chunk;
      },
    });
    const traceId = traceIdOf(turn);
    if (params.stream === true) return { data: result.data as Stream<Chunk>, requestId: result.requestId, traceId };
    const completion = result.data as ChatCompletion;
    const moa = report(result.metering);
    const usage = usageMode === 'turn' ? turnUsage(moa) : completion.usage ? withTurnCost(completion.usage, moa) : undefined;
    const data: Completion = { ...completion, ...(usage ? { usage } : {}), moa };
    return { data, requestId: result.requestId, traceId };
  } finally {
    // The root span ends once every call has: a returned stream keeps it open until the stream ends.
    turn.end();
  }
}

/** The original's `privacy_filter: full`: the aggregator reads the advisors' notes masked, as the records hold them. */
function maskedNotes(outcomes: readonly ReferenceOutcome[], config: MoaConfig): ReferenceOutcome[] {
  const redactor = Redactor.from(config.redact);
  return outcomes.map((o) => ({ ...o, output: o.output === null ? null : redactor.text(o.output) }));
}

function traceIdOf(turn: MoaTurn): string | null {
  return isSpanContextValid(turn.spanContext) ? turn.spanContext.traceId : null;
}

/** The cached advice's reference spans, for a HIT's links (spans of a turn that recorded nothing are left out). */
function reusedReferences(cached: readonly ReferenceOutcome[]): ReusedReference[] {
  return cached.flatMap((outcome, index) => (outcome.spanContext && isSpanContextValid(outcome.spanContext)
    ? [{ spanContext: outcome.spanContext, index, failed: outcome.output === null }]
    : []));
}
