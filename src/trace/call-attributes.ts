/**
 * Pure functions from MoA call data to span attributes (DESIGN §2). Shared by
 * the live instrumentation and by the offline replay, so both produce the
 * same spans.
 */
import type { Attributes } from '@opentelemetry/api';
import { outputMessage, toGenAiMessages } from '../content/genai.js';
import { safeStringify } from '../content/safe-json.js';
import * as A from './attributes.js';
import type { ContentPolicy } from './content-policy.js';
import type { CacheOutcome, ChatMessage, Cost, OutputLocation, ToolCall } from './types.js';
import { genAiInputTokens, type Usage } from '../record/usage.js';

export type CallRole = typeof A.ROLE_REFERENCE | typeof A.ROLE_AGGREGATOR;

export interface RootFacts {
  sessionId?: string | null;
  preset: string;
  fanout?: string;
  cache?: CacheOutcome;
  iteration?: number;
}

export function rootStartAttributes(facts: RootFacts): Attributes {
  const attrs: Attributes = {
    [A.GEN_AI_OPERATION_NAME]: A.OPERATION_INVOKE_WORKFLOW,
    [A.GEN_AI_WORKFLOW_NAME]: A.WORKFLOW_MOA,
    [A.MOA_PRESET]: facts.preset,
    [A.MOA_CACHE]: facts.cache ?? 'miss',
  };
  if (facts.sessionId) {
    attrs[A.GEN_AI_CONVERSATION_ID] = facts.sessionId;
    attrs[A.MOA_SESSION_ID] = facts.sessionId;
  }
  if (facts.fanout) attrs[A.MOA_FANOUT] = facts.fanout;
  if (facts.iteration !== undefined) attrs[A.MOA_ITERATION] = facts.iteration;
  return attrs;
}

/** The root span's status message when the aggregator failed (live and replayed alike). */
export const AGGREGATOR_FAILED_STATUS = 'aggregator call failed';

export interface TurnTotals {
  referenceCount: number;
  referenceFailed: number;
  usage: Usage;
  /** Sum of the known call costs; null when no call had a known cost. */
  costUsd: number | null;
}

export function rootEndAttributes(totals: TurnTotals): Attributes {
  const attrs: Attributes = {
    [A.MOA_REFERENCE_COUNT]: totals.referenceCount,
    [A.MOA_REFERENCE_FAILED]: totals.referenceFailed,
    // Turn totals under moa.usage.*, with the same meaning as gen_ai.usage.* on the calls.
    ...tokenAttributes(totals.usage, MOA_TOTAL_TOKEN_NAMES),
  };
  if (totals.costUsd !== null) attrs[A.MOA_COST_USD] = totals.costUsd;
  return attrs;
}

export interface CallFacts {
  role: CallRole;
  label: string;
  model: string;
  provider: string;
  genAiProvider?: string;
  temperature?: number | null;
  index?: number;
  stream?: boolean;
  serverAddress?: string;
  serverPort?: number;
  /** The session id, as `gen_ai.conversation.id` on every span of the turn. */
  conversationId?: string | null;
}

export function callSpanName(model: string): string {
  return `${A.OPERATION_CHAT} ${model}`;
}

export function defaultLabel(provider: string, model: string): string {
  return `${provider}:${model}`;
}

export function callStartAttributes(facts: CallFacts, inputMessagesGenAiJson?: string): Attributes {
  const attrs: Attributes = {
    [A.GEN_AI_OPERATION_NAME]: A.OPERATION_CHAT,
    [A.GEN_AI_PROVIDER_NAME]: facts.genAiProvider ?? facts.provider,
    [A.GEN_AI_REQUEST_MODEL]: facts.model,
    [A.GEN_AI_REQUEST_STREAM]: facts.stream ?? false,
    [A.MOA_ROLE]: facts.role,
    [A.MOA_LABEL]: facts.label,
  };
  if (facts.conversationId) attrs[A.GEN_AI_CONVERSATION_ID] = facts.conversationId;
  if (facts.role === A.ROLE_REFERENCE && facts.index !== undefined) attrs[A.MOA_REFERENCE_INDEX] = facts.index;
  if (typeof facts.temperature === 'number') attrs[A.GEN_AI_REQUEST_TEMPERATURE] = facts.temperature;
  if (facts.serverAddress) attrs[A.SERVER_ADDRESS] = facts.serverAddress;
  if (facts.serverPort !== undefined) attrs[A.SERVER_PORT] = facts.serverPort;
  if (inputMessagesGenAiJson !== undefined) attrs[A.GEN_AI_INPUT_MESSAGES] = inputMessagesGenAiJson;
  return attrs;
}

export function inputMessagesAttribute(messages: readonly ChatMessage[] | readonly unknown[], policy: ContentPolicy): string {
  return safeStringify(toGenAiMessages(messages), policy.replacer);
}

export interface CallOutcome {
  output?: string | null;
  toolCalls?: readonly ToolCall[] | readonly unknown[] | null;
  finishReason?: string | null;
  usage?: Usage | null;
  cost?: Cost | null;
  responseId?: string | null;
  responseModel?: string | null;
  finishReasons?: readonly string[];
  timeToFirstChunkSeconds?: number | null;
  /** Aggregator only. */
  streamed?: boolean;
  outputLocation?: OutputLocation;
}

export function callEndAttributes(outcome: CallOutcome, policy: ContentPolicy): Attributes {
  const attrs: Attributes = {};
  const hasOutput = (typeof outcome.output === 'string' && outcome.output !== '') || (outcome.toolCalls?.length ?? 0) > 0;
  if (hasOutput && policy.spanContent) {
    // The policy's replacer redacts every string, the output text included.
    attrs[A.GEN_AI_OUTPUT_MESSAGES] = safeStringify([outputMessage(outcome.output, outcome.toolCalls, outcome.finishReason)], policy.replacer);
  }
  if (outcome.responseModel) attrs[A.GEN_AI_RESPONSE_MODEL] = outcome.responseModel;
  if (outcome.responseId) attrs[A.GEN_AI_RESPONSE_ID] = outcome.responseId;
  const reasons = outcome.finishReasons ?? (outcome.finishReason ? [outcome.finishReason] : undefined);
  if (reasons && reasons.length > 0) attrs[A.GEN_AI_RESPONSE_FINISH_REASONS] = [...reasons];
  if (typeof outcome.timeToFirstChunkSeconds === 'number') attrs[A.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = outcome.timeToFirstChunkSeconds;
  if (outcome.usage) Object.assign(attrs, tokenAttributes(outcome.usage, CALL_TOKEN_NAMES));
  if (outcome.cost) Object.assign(attrs, costAttributes(outcome.cost));
  if (outcome.streamed !== undefined) attrs[A.MOA_AGGREGATOR_STREAMED] = outcome.streamed;
  if (outcome.outputLocation) attrs[A.MOA_AGGREGATOR_OUTPUT_LOCATION] = outcome.outputLocation;
  return attrs;
}

/** Attribute names for the five token buckets: one set per call, one for turn totals. */
interface TokenNames { input: string; output: string; cacheRead: string; cacheWrite: string; reasoning: string }

const CALL_TOKEN_NAMES: TokenNames = {
  input: A.GEN_AI_USAGE_INPUT_TOKENS,
  output: A.GEN_AI_USAGE_OUTPUT_TOKENS,
  cacheRead: A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  cacheWrite: A.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
  reasoning: A.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
};
const MOA_TOTAL_TOKEN_NAMES: TokenNames = {
  input: A.MOA_USAGE_INPUT_TOKENS,
  output: A.MOA_USAGE_OUTPUT_TOKENS,
  cacheRead: A.MOA_USAGE_CACHE_READ_INPUT_TOKENS,
  cacheWrite: A.MOA_USAGE_CACHE_WRITE_INPUT_TOKENS,
  reasoning: A.MOA_USAGE_REASONING_OUTPUT_TOKENS,
};

/** GenAI meaning: input INCLUDES cached reads and writes (`Usage.inputTokens` is uncached), output includes reasoning. */
function tokenAttributes(u: Usage, names: TokenNames): Attributes {
  return {
    [names.input]: genAiInputTokens(u),
    [names.output]: u.outputTokens,
    [names.cacheRead]: u.cacheReadTokens,
    [names.cacheWrite]: u.cacheWriteTokens,
    [names.reasoning]: u.reasoningTokens,
  };
}


export function costAttributes(cost: Cost): Attributes {
  const attrs: Attributes = { [A.MOA_COST_STATUS]: cost.status };
  const usd = costNumber(cost.usd);
  if (usd !== null) attrs[A.MOA_COST_USD] = usd;
  if (cost.source) attrs[A.MOA_COST_SOURCE] = cost.source;
  return attrs;
}

export function costNumber(usd: number | string | null | undefined): number | null {
  if (usd === null || usd === undefined) return null;
  const n = typeof usd === 'number' ? usd : Number(usd);
  return Number.isFinite(n) ? n : null;
}

/** The original feature's rule for where the aggregator's answer can be found. */
export function outputLocation(streamed: boolean, capturedText: string | null | undefined): OutputLocation {
  if (!streamed) return 'inline';
  return typeof capturedText === 'string' && capturedText !== '' ? 'inline_from_stream' : 'assistant_message_in_session_db';
}
