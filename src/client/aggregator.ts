/**
 * The aggregator call of one iteration: the caller's params with the preset's
 * model, the caller's conversation plus the guidance block, and the caller's
 * tools. Drives the aggregator span, which ends once the answer (or the
 * stream) is complete; the caller ends the turn, whose root waits for it.
 */
import { context as otelContext } from '@opentelemetry/api';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageToolCall,
} from 'openai/resources/chat/completions';
import { Stream } from 'openai/streaming';
import type { ModelSlotConfig } from '../config/schema.js';
import type { ChatMessage, MoaTurn, ToolCall } from '../trace/types.js';
import { callStartFacts, meterCall, responseInfo } from './call-facts.js';
import { reasoningParams, type ResolvedProvider } from './providers.js';
import { streamEnd, teeChunks } from './stream.js';

export interface AggregatorRequest {
  turn: MoaTurn;
  slot: ModelSlotConfig;
  provider: ResolvedProvider;
  params: ChatCompletionCreateParamsNonStreaming | ChatCompletionCreateParamsStreaming;
  /** The caller's messages followed by the guidance block. */
  messages: ChatMessage[];
  signal?: AbortSignal;
}

export async function callAggregator(request: AggregatorRequest): Promise<ChatCompletion | Stream<ChatCompletionChunk>> {
  const { turn, slot, provider, params } = request;
  const temperature = slot.temperature ?? params.temperature ?? undefined;
  const agg = turn.startAggregator({
    ...callStartFacts(slot, provider, temperature),
    messages: request.messages,
    stream: params.stream === true,
  });
  const body: Record<string, unknown> = {
    ...params,
    model: slot.model,
    messages: request.messages,
    ...(temperature !== undefined ? { temperature } : {}),
    ...reasoningParams(slot),
  };
  // Usage and cost only matter to a recording turn; pricing is a table lookup per call.
  const meter = (rawUsage: unknown) => (turn.recording ? meterCall(provider, slot.model, rawUsage) : {});
  const requestOptions = request.signal ? { signal: request.signal } : undefined;

  if (params.stream === true) {
    // We ask for the usage chunk even when the caller did not (cost needs it)
    // and hold that one chunk back, so the caller sees the stream it asked for.
    const callerWantsUsage = params.stream_options?.include_usage === true;
    let source: Stream<ChatCompletionChunk>;
    try {
      source = await otelContext.with(agg.context, () => provider.client.chat.completions.create(
        { ...body, stream: true, stream_options: { ...(params.stream_options ?? {}), include_usage: true } } as unknown as ChatCompletionCreateParamsStreaming,
        requestOptions,
      ));
    } catch (err) {
      agg.fail(provider.scrub(err));
      throw err;
    }
    const tee = teeChunks(source, {
      firstChunk: () => agg.firstChunk(),
      finish: (assembler) => agg.end({ ...streamEnd(assembler), ...meter(assembler.rawUsage) }),
      fail: (error) => agg.fail(provider.scrub(error)),
      hideChunk: (chunk) => !callerWantsUsage && (chunk.choices?.length ?? 0) === 0 && chunk.usage != null,
      abortSource: () => source.controller.abort(),
    });
    return new Stream<ChatCompletionChunk>(() => tee, source.controller);
  }

  try {
    // Inside the aggregator's span: the HTTP request (and any instrumentation of it) nests under `chat <model>`.
    const response = (await otelContext.with(agg.context, () => provider.client.chat.completions.create(
      body as unknown as ChatCompletionCreateParamsNonStreaming,
      requestOptions,
    ))) as ChatCompletion;
    const choice = response.choices?.[0];
    const toolCalls = choice?.message?.tool_calls ?? [];
    agg.end({
      // A non-streamed answer is always inline; a tool-call-only one has the empty text, as the original records it.
      output: choice?.message?.content ?? '',
      ...meter(response.usage),
      toolCalls: toolCalls.length > 0 ? toolCalls.map(toRecordedToolCall) : null,
      finishReason: choice?.finish_reason ?? null,
      response: responseInfo(response),
    });
    return response;
  } catch (err) {
    agg.fail(provider.scrub(err));
    throw err;
  }
}

/** Function tool calls as they are; custom tool calls keep their input under `function.arguments`. */
function toRecordedToolCall(call: ChatCompletionMessageToolCall): ToolCall {
  if (call.type === 'function') return { ...call, function: { ...call.function } };
  return { ...call, function: { name: call.custom.name, arguments: call.custom.input } };
}
