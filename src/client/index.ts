/**
 * `moa-otel/client`: the OpenAI-compatible MoA client and its tool loop.
 * Needs the optional peer `openai`; the root entry never loads this file.
 */
export {
  createMoaClient, DEFAULT_PRESET_MODEL,
  type MoaClient, type MoaClientOptions, type MoaChatCompletions, type MoaModelSlot, type MoaPreset,
  type MoaProvider, type MoaRequestOptions,
} from './client.js';
export {
  runConversation, type RunConversationOptions, type ConversationResult, type ToolHandler,
} from './conversation.js';
export { normalizeUsage, type NormalizedUsage } from './usage.js';
export { MoaSetupError, MissingApiKeyError } from './providers.js';
