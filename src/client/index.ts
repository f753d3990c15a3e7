/**
 * `moa-otel/client`: the OpenAI-compatible MoA client and its tool loop.
 * Needs the optional peer `openai`; the root entry never loads this file.
 */
export {
  createMoaClient, DEFAULT_PRESET_MODEL,
  type MoaClient, type MoaClientOptions, type MoaChatCompletions, type MoaModelSlot, type MoaPreset,
  type MoaProvider, type MoaRequestOptions, type UsageReport, type MoaMessageParam, type MoaToolParam,
  type MoaChatCompletion, type MoaChatCompletionChunk, type MoaChatCompletionCreateParams,
  type MoaChatCompletionCreateParamsNonStreaming, type MoaChatCompletionCreateParamsStreaming,
} from './client.js';
export { MoaAPIPromise, type WithResponse } from './api-promise.js';
export type { MoaTurnReport, MoaCallReport, MoaUsageReport } from './turn-report.js';
export { KNOWN_PROVIDERS, type KnownProvider } from './known-providers.js';
export {
  runConversation, type RunConversationOptions, type ConversationResult, type ToolHandler,
} from './conversation.js';
export { normalizeUsage, type NormalizedUsage } from './usage.js';
export { MoaSetupError, MissingApiKeyError, ProviderUnusableError, type UnusableReference } from './providers.js';
export { UnsupportedByResponsesError } from './responses-request.js';
export { ResponsesFailedError } from './responses-answer.js';
