/**
 * The aggregator's provider request, in chat-completions terms whatever API
 * the provider speaks: a chat provider gets the body as it is; a Responses
 * provider gets it translated (`responses-request.ts`) and its answer — a
 * response, or a stream of events — comes back as a chat completion or a
 * stream of chunks (`responses-answer.ts`). Everything above this module
 * (the span, the record, metering, the caller's `moa` field) sees the same
 * chat answer either way.
 */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import type { ResponseCreateParamsNonStreaming, ResponseCreateParamsStreaming } from 'openai/resources/responses/responses';
import { Stream } from 'openai/streaming';
import type { ResolvedProvider } from './providers.js';
import type { ProviderCallOptions } from './request-options.js';
import { chatChunksFromResponseEvents, chatCompletionFromResponse } from './responses-answer.js';
import { toResponsesRequest } from './responses-request.js';

export interface WireAnswer<T> {
  data: T;
  /** The provider's request id (`x-request-id`), when it sent one. */
  request_id: string | null;
}

/** A non-streamed aggregator call. */
export async function createCompletion(
  provider: ResolvedProvider,
  body: Record<string, unknown>,
  options: ProviderCallOptions,
): Promise<WireAnswer<ChatCompletion>> {
  if (provider.api !== 'responses') {
    return provider.client.chat.completions.create(body as unknown as ChatCompletionCreateParamsNonStreaming, options).withResponse();
  }
  const request = { ...toResponsesRequest(body), stream: false } as ResponseCreateParamsNonStreaming;
  const { data, request_id } = await provider.client.responses.create(request, options).withResponse();
  return { data: chatCompletionFromResponse(data), request_id };
}

/** A streamed aggregator call; `body` asks for the usage chunk (a Responses stream always ends with usage). */
export async function createCompletionStream(
  provider: ResolvedProvider,
  body: Record<string, unknown>,
  options: ProviderCallOptions,
): Promise<WireAnswer<Stream<ChatCompletionChunk>>> {
  if (provider.api !== 'responses') {
    return provider.client.chat.completions.create(body as unknown as ChatCompletionCreateParamsStreaming, options).withResponse();
  }
  const request = { ...toResponsesRequest(body), stream: true } as ResponseCreateParamsStreaming;
  const { data: events, request_id } = await provider.client.responses.create(request, options).withResponse();
  // Same controller: aborting the chat stream (a caller walking away) releases the Responses request.
  const chunks = new Stream<ChatCompletionChunk>(() => chatChunksFromResponseEvents(events), events.controller);
  return { data: chunks, request_id };
}

/** Throws `UnsupportedByResponsesError` when the provider speaks the Responses API and the request asks for what it cannot carry. */
export function assertWireCarries(provider: ResolvedProvider, body: Record<string, unknown>): void {
  if (provider.api === 'responses') toResponsesRequest(body);
}
