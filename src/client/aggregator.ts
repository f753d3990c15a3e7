/**
 * The aggregator call of one iteration: the caller's params with the preset's
 * model, the caller's conversation plus the guidance block, and the caller's
 * tools. Drives the aggregator span, which ends once the answer (or the
 * stream) is complete; the caller ends the turn, whose root waits for it.
 * The provider may speak chat completions or the Responses API
 * (`aggregator-wire.ts`): the span, the record and the caller see a chat
 * answer either way.
 */
import { context as otelContext } from '@opentelemetry/api';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import { Stream } from 'openai/streaming';
import type { ModelSlotConfig } from '../config/schema.js';
import type { ChatMessage, MoaTurn, ToolCall } from '../trace/types.js';
import { createCompletion, createCompletionStream } from './aggregator-wire.js';
import { callStartFacts, meterCall, responseInfo, type CallMetering } from './call-facts.js';
import { reasoningParams, type ResolvedProvider } from './providers.js';
import type { ProviderCallOptions } from './request-options.js';
import { streamEnd, teeChunks } from './stream.js';

/** Chat-completions params as far as the aggregator call reads them; every other field is sent as given. */
export interface AggregatorParams {
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  temperature?: number | null;
  tools?: readonly unknown[] | null;
}

export interface AggregatorRequest {
  turn: MoaTurn;
  slot: ModelSlotConfig;
  provider: ResolvedProvider;
  params: AggregatorParams;
  /** The caller's messages followed by the guidance block (when there is one). */
  messages: readonly ChatMessage[];
  /** The preset's `aggregator_temperature`, used when the slot has none. */
  temperature?: number;
  callOptions?: ProviderCallOptions;
  /** Streaming: completes the last chunk the caller gets, once the aggregator's usage is known. */
  completeFinalChunk?: (chunk: ChatCompletionChunk, metering: CallMetering) => ChatCompletionChunk;
}

export interface AggregatorResult<T> {
  data: T;
  /** The provider's request id (`x-request-id`), when it sent one. */
  requestId: string | null;
  /** Non-streamed: what the call used and cost (a stream knows it only at its end). */
  metering?: CallMetering;
}

/** The temperature the aggregator call uses: the slot's, else the preset's, else the caller's. */
function aggregatorTemperature(slot: ModelSlotConfig, params: AggregatorParams, presetTemperature: number | undefined): number | undefined {
  return slot.temperature ?? presetTemperature ?? params.temperature ?? undefined;
}

/** The chat body of the aggregator call: the caller's params with the slot's model, temperature, reasoning and `extra_body`. */
export function aggregatorBody(slot: ModelSlotConfig, params: AggregatorParams, messages: readonly unknown[], presetTemperature?: number): Record<string, unknown> {
  const temperature = aggregatorTemperature(slot, params, presetTemperature);
  return {
    ...slot.extra_body,
    ...params,
    model: slot.model,
    messages,
    ...(temperature !== undefined ? { temperature } : {}),
    ...reasoningParams(slot),
  };
}

export async function callAggregator(request: AggregatorRequest): Promise<AggregatorResult<ChatCompletion | Stream<ChatCompletionChunk>>> {
  const { turn, slot, provider, params } = request;
  const temperature = aggregatorTemperature(slot, params, request.temperature);
  const agg = turn.startAggregator({
    ...callStartFacts(slot, provider, temperature),
    messages: request.messages,
    stream: params.stream === true,
    ...(Array.isArray(params.tools) && params.tools.length > 0 ? { tools: params.tools } : {}),
  });
  const body = aggregatorBody(slot, params, request.messages, request.temperature);
  // Metered whether or not the turn records: the caller's `moa` field reports it.
  const meter = (rawUsage: unknown) => meterCall(provider, slot.model, rawUsage);
  // The span and the caller get the same masked error: the original itself when it could be masked
  // in place, else a masked copy (never the original, which still holds the key).
  const failed = (error: unknown): unknown => {
    const masked = provider.scrub(error);
    agg.fail(masked);
    return masked;
  };
  const callOptions = request.callOptions ?? {};

  if (params.stream === true) {
    // We ask for the usage chunk even when the caller did not (cost needs it)
    // and hold that one chunk back, so the caller sees the stream it asked for.
    const callerWantsUsage = params.stream_options?.include_usage === true;
    let source: Stream<ChatCompletionChunk>;
    let requestId: string | null;
    try {
      ({ data: source, request_id: requestId } = await otelContext.with(agg.context, () => createCompletionStream(
        provider,
        { ...body, stream: true, stream_options: { ...(params.stream_options ?? {}), include_usage: true } },
        callOptions,
      )));
    } catch (err) {
      throw failed(err);
    }
    let metering: CallMetering = { usage: null, cost: { usd: null, status: 'unknown', source: null } };
    const complete = request.completeFinalChunk;
    const tee = teeChunks(source, {
      firstChunk: () => agg.firstChunk(),
      finish: (assembler) => {
        metering = meter(assembler.rawUsage);
        // An aborted request ends the stream quietly: record it as the failure it
        // is (a caller gone, a shutdown), keeping what had arrived.
        const abort = callOptions.signal?.aborted ? callOptions.signal : source.controller.signal.aborted ? source.controller.signal : undefined;
        if (abort) agg.fail(provider.scrub(abortReason(abort)), { ...streamEnd(assembler), ...metering });
        else agg.end({ ...streamEnd(assembler), ...metering });
      },
      fail: failed,
      hideChunk: (chunk) => !callerWantsUsage && (chunk.choices?.length ?? 0) === 0 && chunk.usage != null,
      abortSource: () => source.controller.abort(),
      ...(complete ? { completeFinal: (chunk: ChatCompletionChunk) => complete(chunk, metering) } : {}),
    });
    return { data: new Stream<ChatCompletionChunk>(() => tee, source.controller), requestId };
  }

  try {
    // Inside the aggregator's span: the HTTP request (and any instrumentation of it) nests under `chat <model>`.
    const { data: response, request_id: requestId } = await otelContext.with(agg.context, () => createCompletion(provider, body, callOptions));
    const choice = response.choices?.[0];
    const toolCalls = choice?.message?.tool_calls ?? [];
    const metering = meter(response.usage);
    agg.end({
      // A non-streamed answer is always inline; a tool-call-only one has the empty text, as the original records it.
      output: choice?.message?.content ?? '',
      ...metering,
      toolCalls: toolCalls.length > 0 ? toolCalls.map(toRecordedToolCall) : null,
      finishReason: choice?.finish_reason ?? null,
      response: responseInfo(response),
    });
    return { data: response, requestId, metering };
  } catch (err) {
    throw failed(err);
  }
}

/** Why a signal aborted, as an error (a bare `abort()` has a DOMException reason; a caller may pass anything). */
function abortReason(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(`request aborted${reason === undefined ? '' : `: ${String(reason)}`}`);
}

/** Function tool calls as they are; custom tool calls keep their input under `function.arguments`. */
function toRecordedToolCall(call: ChatCompletionMessageToolCall): ToolCall {
  if (call.type === 'function') return { ...call, function: { ...call.function } };
  return { ...call, function: { name: call.custom.name, arguments: call.custom.input } };
}
