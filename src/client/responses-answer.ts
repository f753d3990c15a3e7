/**
 * A Responses API answer as the chat completion the caller asked for: the
 * response's text as the message content, its `function_call` items as
 * `tool_calls`, its status as the finish reason, its usage in the
 * chat-completions shape (so pricing and the caller's `usage` read it as they
 * read any chat aggregator's). Streamed, the Responses events become
 * `chat.completion.chunk`s: text deltas, tool-call openings and argument
 * deltas, the finish chunk, and a usage-only chunk last, as a chat stream
 * with `stream_options.include_usage` ends.
 */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionMessageFunctionToolCall,
} from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';

type FinishReason = ChatCompletion.Choice['finish_reason'];

/** The provider said the response failed (a `response.failed` or `error` event, or a failed status). */
export class ResponsesFailedError extends Error {
  override readonly name = 'ResponsesFailedError';
  constructor(message: string, readonly code: string | null = null) {
    super(message);
  }
}

export function chatCompletionFromResponse(response: Response): ChatCompletion {
  if (response.status === 'failed') throw failure(response);
  let text = '';
  let refusal = '';
  const toolCalls: ChatCompletionMessageFunctionToolCall[] = [];
  for (const item of response.output ?? []) {
    if (item.type === 'message') {
      for (const part of item.content ?? []) {
        if (part.type === 'output_text') text += part.text;
        else if (part.type === 'refusal') refusal += part.refusal;
      }
    } else if (item.type === 'function_call') {
      toolCalls.push({ id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } });
    }
  }
  const usage = chatUsage(response.usage);
  return {
    id: response.id,
    object: 'chat.completion',
    created: response.created_at,
    model: response.model,
    choices: [{
      index: 0,
      message: {
        role: 'assistant',
        // As chat providers answer: null beside tool calls or a refusal, '' for an empty answer.
        content: text !== '' ? text : toolCalls.length > 0 || refusal !== '' ? null : '',
        refusal: refusal === '' ? null : refusal,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
      logprobs: null,
      finish_reason: finishReason(response, toolCalls.length > 0),
    }],
    ...(usage ? { usage } : {}),
    ...(response.service_tier ? { service_tier: response.service_tier } : {}),
  } as ChatCompletion;
}

/**
 * Responses usage in the chat-completions shape: `prompt_tokens` (which, as
 * `input_tokens`, includes the cached tokens), `completion_tokens`, the
 * cache and reasoning details under their chat names. Every other key (a
 * gateway's `cost`, …) is kept, so a provider-reported cost still wins.
 */
export function chatUsage(raw: unknown): CompletionUsage | undefined {
  if (!isRecord(raw)) return undefined;
  const { input_tokens: input, output_tokens: output, total_tokens: total, input_tokens_details: inDetails, output_tokens_details: outDetails, ...rest } = raw;
  const inputTokens = count(input);
  const outputTokens = count(output);
  const prompt = isRecord(inDetails) ? { ...inDetails } : {};
  // Some gateways name cache writes `cache_creation_tokens`; the chat reader knows `cache_write_tokens`.
  if (prompt.cache_write_tokens === undefined && prompt.cache_creation_tokens !== undefined) {
    prompt.cache_write_tokens = prompt.cache_creation_tokens;
    delete prompt.cache_creation_tokens;
  }
  return {
    ...rest,
    prompt_tokens: inputTokens,
    completion_tokens: outputTokens,
    total_tokens: typeof total === 'number' ? total : inputTokens + outputTokens,
    ...(Object.keys(prompt).length > 0 ? { prompt_tokens_details: prompt } : {}),
    ...(isRecord(outDetails) ? { completion_tokens_details: { ...outDetails } } : {}),
  } as CompletionUsage;
}

/**
 * The chat chunks a Responses event stream stands for. Throws
 * `ResponsesFailedError` when the provider reports a failure, and when the
 * stream ends before the response did (a cut connection must not pass for a
 * complete answer).
 */
export async function* chatChunksFromResponseEvents(events: AsyncIterable<ResponseStreamEvent>): AsyncGenerator<ChatCompletionChunk, void, undefined> {
  let id = '';
  let model = '';
  let created = Math.floor(Date.now() / 1000);
  let opened = false;
  /** Tool-call index (chat) per output index (Responses), and whether arguments arrived as deltas. */
  const calls = new Map<number, { index: number; streamedArguments: boolean }>();
  const chunk = (delta: ChatCompletionChunk.Choice.Delta, finish: FinishReason | null = null): ChatCompletionChunk => ({
    id, object: 'chat.completion.chunk', created, model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  // A chat stream opens with the role; so does this one, whatever event comes first.
  const open = function* (): Generator<ChatCompletionChunk> {
    if (opened) return;
    opened = true;
    yield chunk({ role: 'assistant', content: '' });
  };
  const callDelta = (index: number, call: Omit<ChatCompletionChunk.Choice.Delta.ToolCall, 'index'>) => chunk({ tool_calls: [{ ...call, index }] });

  let ended = false;
  for await (const event of events) {
    // Read to the end of the provider's stream, not just to the terminal event: leaving a
    // Stream early aborts its request, and an aborted request is recorded as a failure.
    if (ended) continue;
    switch (event.type) {
      case 'response.created':
      case 'response.in_progress':
        id = event.response.id ?? id;
        model = event.response.model ?? model;
        created = event.response.created_at ?? created;
        yield* open();
        break;
      case 'response.output_text.delta':
        yield* open();
        if (event.delta !== '') yield chunk({ content: event.delta });
        break;
      case 'response.refusal.delta':
        yield* open();
        if (event.delta !== '') yield chunk({ refusal: event.delta });
        break;
      case 'response.output_item.added':
        if (event.item.type === 'function_call') {
          yield* open();
          const call = { index: calls.size, streamedArguments: event.item.arguments !== '' };
          calls.set(event.output_index, call);
          yield callDelta(call.index, {
            id: event.item.call_id, type: 'function', function: { name: event.item.name, arguments: event.item.arguments ?? '' },
          });
        }
        break;
      case 'response.function_call_arguments.delta': {
        const call = calls.get(event.output_index);
        if (call && event.delta !== '') {
          call.streamedArguments = true;
          yield callDelta(call.index, { function: { arguments: event.delta } });
        }
        break;
      }
      case 'response.output_item.done': {
        // A provider that sends a call's arguments only whole, in the done item.
        const call = calls.get(event.output_index);
        if (call && !call.streamedArguments && event.item.type === 'function_call' && event.item.arguments !== '') {
          call.streamedArguments = true;
          yield callDelta(call.index, { function: { arguments: event.item.arguments } });
        }
        break;
      }
      case 'response.completed':
      case 'response.incomplete': {
        yield* open();
        const response = event.response;
        id = response.id ?? id;
        model = response.model ?? model;
        yield chunk({}, finishReason(response, calls.size > 0));
        const usage = chatUsage(response.usage);
        if (usage) yield { id, object: 'chat.completion.chunk', created, model, choices: [], usage };
        ended = true;
        break;
      }
      case 'response.failed':
        throw failure(event.response);
      case 'error':
        throw new ResponsesFailedError(`the Responses stream reported an error: ${event.message}`, event.code ?? null);
      default:
        // Reasoning summaries, content-part bookkeeping, built-in tool progress: nothing a chat stream carries.
        break;
    }
  }
  if (!ended) throw new ResponsesFailedError('the Responses stream ended before the response was complete');
}

/** How a response ended, in chat terms. */
function finishReason(response: Pick<Response, 'status' | 'incomplete_details'>, calledTools: boolean): FinishReason {
  if (response.status === 'incomplete') return response.incomplete_details?.reason === 'content_filter' ? 'content_filter' : 'length';
  return calledTools ? 'tool_calls' : 'stop';
}

function failure(response: Pick<Response, 'error'>): ResponsesFailedError {
  const error = response.error;
  return new ResponsesFailedError(`the response failed${error ? `: ${error.message}` : ''}`, error?.code ?? null);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
