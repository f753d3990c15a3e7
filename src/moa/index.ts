export {
  createMoaClient, DEFAULT_PRESET_MODEL,
  type MoaClient, type MoaClientOptions, type MoaChatCompletions, type MoaModelSlot, type MoaPreset,
  type MoaProvider, type MoaRequestOptions,
} from './client.js';
export {
  buildAdvisoryView, referenceMessages, cutMiddle, contentToText,
  ADVISOR_SYSTEM_PROMPT, ADVICE_REQUEST, DEFAULT_TOOL_RESULT_BUDGET,
  type AdvisoryMessage, type AdvisoryViewOptions,
} from './advisory-view.js';
export { buildGuidanceMessage, guidanceText, NO_ADVICE_TEXT, type GuidanceInput, type ReferenceOutcome } from './guidance.js';
export { ReferenceCache, parseFanout, upToLastUserMessage, type CachePlan, type ParsedFanout } from './cache.js';
export { runFanout, ReferenceTimeoutError, type FanoutRequest } from './fanout.js';
export { teeChunks, StreamAssembler, streamEnd, type TeeHooks } from './stream.js';
export { normalizeUsage, totalInputTokens, type NormalizedUsage, type UsageShape } from './usage.js';
export { priceCall, reportedCost, type PriceRequest } from './pricing.js';
export { MoaSetupError, MissingApiKeyError, SELF_PROVIDER } from './providers.js';
export {
  runConversation, type RunConversationOptions, type ConversationResult, type ToolHandler,
} from './conversation.js';
export {
  startScriptedServer, type ScriptedServer, type ScriptedModel, type ScriptedReply, type ScriptedToolCall,
  type RecordedRequest, type UsageVariant,
} from './scripted-server.js';
export { runDemo, DEMO_QUESTIONS, type DemoOptions, type DemoResult } from './demo.js';
export { callAggregator, type AggregatorRequest } from './aggregator.js';
