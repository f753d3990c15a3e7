/**
 * One reference call through the Responses API, for providers that speak
 * only that (the original's `codex_responses` transport: `openai-codex`).
 * A reference is a plain text exchange, so the chat messages map one to one
 * onto Responses input messages, and the answer is the response's text.
 */
import type OpenAI from 'openai';
import type { ChatMessage, ResponseInfo } from '../trace/types.js';
import type { ProviderCallOptions } from './request-options.js';

export interface ReferenceCallRequest {
  model: string;
  messages: readonly ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  /** The slot's `reasoning`: an effort level or a provider-specific object. */
  reasoning?: string | Record<string, unknown>;
  extraBody?: Record<string, unknown>;
}

export interface ReferenceCallResult {
  text: string | null;
  /** The raw `usage` object (Responses shape), for metering. */
  usage: unknown;
  response: ResponseInfo;
}

export async function callThroughResponses(client: OpenAI, request: ReferenceCallRequest, options: ProviderCallOptions & { signal: AbortSignal }): Promise<ReferenceCallResult> {
  const body = {
    ...request.extraBody,
    model: request.model,
    input: request.messages.map((m) => ({ role: m.role, content: m.content })),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.maxTokens !== undefined ? { max_output_tokens: request.maxTokens } : {}),
    ...(request.reasoning !== undefined ? { reasoning: typeof request.reasoning === 'string' ? { effort: request.reasoning } : request.reasoning } : {}),
    stream: false as const,
  } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming;
  const response = await client.responses.create(body, options);
  return {
    text: typeof response.output_text === 'string' ? response.output_text : null,
    usage: response.usage,
    response: {
      id: response.id ?? null,
      model: response.model ?? null,
      // Responses say how they ended by status: a completed one stopped, an incomplete one was cut.
      finishReasons: response.status === 'completed' ? ['stop'] : response.status === 'incomplete' ? ['length'] : [],
    },
  };
}
