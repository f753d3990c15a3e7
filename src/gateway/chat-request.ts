/**
 * The checks a chat-completions body gets before a MoA turn starts: just
 * enough that a malformed request fails with a 400 naming the parameter
 * instead of a turn failing halfway. Everything else is the aggregator's to
 * judge, and its refusal reaches the caller as a 400 too.
 */
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import { GatewayError } from './openai-error.js';

export type ChatParams = ChatCompletionCreateParamsNonStreaming | ChatCompletionCreateParamsStreaming;

export function chatParams(body: unknown): ChatParams {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new GatewayError(400, 'the request body must be a JSON object');
  }
  const params = body as Record<string, unknown>;
  if (typeof params.model !== 'string' || params.model === '') {
    throw invalid('model', 'you must provide a model parameter (e.g. "moa" or "moa/<preset>"; GET /v1/models lists them)');
  }
  const { messages } = params;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw invalid('messages', '`messages` must be a non-empty array of chat messages');
  }
  messages.forEach((message: unknown, index) => {
    const role = message !== null && typeof message === 'object' ? (message as { role?: unknown }).role : undefined;
    if (typeof role !== 'string') throw invalid(`messages[${index}]`, `messages[${index}] must be an object with a string \`role\``);
  });
  if (params.stream !== undefined && params.stream !== null && typeof params.stream !== 'boolean') {
    throw invalid('stream', '`stream` must be true or false');
  }
  if (params.n !== undefined && params.n !== null && params.n !== 1) {
    throw invalid('n', 'a MoA turn has one aggregator answer: `n` must be 1');
  }
  return params as unknown as ChatParams;
}

function invalid(param: string, message: string): GatewayError {
  return new GatewayError(400, message, { param });
}
