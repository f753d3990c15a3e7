/**
 * Pure functions from MoA call data to span attributes (docs/ARCHITECTURE.md,
 * "Span tree"). Shared by the live instrumentation and by the offline replay,
 * so both produce the same spans. What content goes in, under which GenAI
 * names, is the policy's to say.
 */
import type { Attributes, Link, SpanContext } from '@opentelemetry/api';
import { outputMessage, toGenAiMessages } from '../content/genai.js';
import { capStrings } from '../content/truncation.js';
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

export function rootStartAttributes(facts: RootFacts, policy: ContentPolicy): Attributes {
  const attrs: Attributes = {
    [A.GEN_AI_OPERATION_NAME]: A.OPERATION_INVOKE_WORKFLOW,
    [A.GEN_AI_WORKFLOW_NAME]: A.WORKFLOW_MOA,
    [A.MOA_PRESET]: facts.preset,
    [A.MOA_CACHE]: facts.cache ?? 'miss',
  };
  // Phoenix (OpenInference) lists traces by their root: a CHAIN with an input and an output.
  if (policy.backendHints) attrs[A.OPENINFERENCE_SPAN_KIND] = A.OPENINFERENCE_CHAIN;
  if (facts.sessionId) {
    attrs[A.GEN_AI_CONVERSATION_ID] = facts.sessionId;
    attrs[A.MOA_SESSION_ID] = facts.sessionId;
  }
  if (facts.fanout) attrs[A.MOA_FANOUT] = facts.fanout;
  if (facts.iteration !== undefined) attrs[A.MOA_ITERATION] = facts.iteration;
  return attrs;
}

/** How much of the question a root's name shows (characters). */
export const ROOT_NAME_QUESTION_CHARS = 48;

/**
 * The root's name: the convention's `invoke_workflow moa`, then the preset
 * and, when content may be on spans, the start of the question, so a trace
 * list (whose rows are titled by the root's name) tells turns apart.
 * `gen_ai.operation.name` and `gen_ai.workflow.name=moa` keep the
 * convention's values for anything that groups by them.
 */
export function rootSpanName(preset: string, question: string | null | undefined, policy: ContentPolicy): string {
  const base = preset === '' ? A.ROOT_SPAN_NAME : `${A.ROOT_SPAN_NAME} ${preset}`;
  if (!question || !policy.spanContent || !policy.backendHints) return base;
  const start = questionStart(policy.redactText(question));
  return start === '' ? base : `${base}: ${start}`;
}

/** The question's first words on one line: whitespace collapsed, cut between characters with `…`. */
function questionStart(text: string): string {
  const window = text.slice(0, ROOT_NAME_QUESTION_CHARS * 4);
  const chars = Array.from(window.replace(/\s+/g, ' ').trim());
  const whole = window.length === text.length && chars.length <= ROOT_NAME_QUESTION_CHARS;
  return whole ? chars.join('') : `${chars.slice(0, ROOT_NAME_QUESTION_CHARS).join('').trimEnd()}…`;
}

/** The root span's status message when the aggregator failed (live and replayed alike). */
export const AGGREGATOR_FAILED_STATUS = 'aggregator call failed';

export interface TurnTotals {
  referenceCount: number;
  referenceFailed: number;
  usage: Usage;
  /** Sum of the known call costs; null when no call had a known cost. */
  costUsd: number | null;
  /** The user's latest question (OpenInference `input.value`), when known. */
  input?: string | null;
  /** The turn's answer, or a line naming the tool calls (OpenInference `output.value`). */
  output?: string | null;
  /** References whose advice a cache HIT reused (`moa.reference.reused`, when any). */
  reusedReferences?: number;
  /** Calls that answered (or reported usage) without a known cost: `moa.cost.usd` leaves them out. */
  unpricedCalls?: number;
}

/**
 * Cap, in UTF-8 bytes, of the root's `input.value` / `output.value` even
 * when no `maxContentBytes` is set: they repeat the question and the answer
 * for trace lists, and a multi-megabyte question repeated there doubles the
 * trace and stalls the UIs that render it. The calls keep their content.
 */
export const ROOT_DISPLAY_MAX_BYTES = 16 * 1024;

/** Set by the content builders when they had to cut a string (the span then says `moa.content.truncated`). */
export interface CutFlag {
  cut: boolean;
}

export function rootEndAttributes(totals: TurnTotals, policy: ContentPolicy): Attributes {
  const attrs: Attributes = {
    [A.MOA_REFERENCE_COUNT]: totals.referenceCount,
    [A.MOA_REFERENCE_FAILED]: totals.referenceFailed,
  };
  // Turn totals under moa.usage.*, with the same meaning as gen_ai.usage.* on the calls.
  addTokenAttributes(attrs, totals.usage, MOA_TOTAL_TOKEN_NAMES);
  if (totals.reusedReferences) attrs[A.MOA_REFERENCE_REUSED] = totals.reusedReferences;
  if (totals.costUsd !== null) attrs[A.MOA_COST_USD] = totals.costUsd;
  // A sum that leaves out a call says so: the total alone would read as the whole turn's spend.
  if (totals.unpricedCalls !== undefined) attrs[A.MOA_COST_COMPLETE] = totals.unpricedCalls === 0;
  if (policy.backendHints && policy.spanContent) {
    const cut: CutFlag = { cut: false };
    const cap = Math.min(policy.maxContentBytes ?? ROOT_DISPLAY_MAX_BYTES, ROOT_DISPLAY_MAX_BYTES);
    if (totals.input) {
      attrs[A.INPUT_VALUE] = displayText(totals.input, policy, cut, cap);
      attrs[A.INPUT_MIME_TYPE] = A.MIME_TEXT;
    }
    if (totals.output) {
      attrs[A.OUTPUT_VALUE] = displayText(totals.output, policy, cut, cap);
      attrs[A.OUTPUT_MIME_TYPE] = A.MIME_TEXT;
    }
    if (cut.cut) attrs[A.MOA_CONTENT_TRUNCATED] = true;
  }
  return attrs;
}

/** A text as it may appear on a span: masked, and cut to the display cap (the policy's unless `maxBytes` says). */
export function displayText(text: string, policy: ContentPolicy, cut?: CutFlag, maxBytes = policy.maxContentBytes): string {
  const masked = policy.redactText(text);
  if (maxBytes === undefined) return masked;
  const shown = capStrings(masked, maxBytes);
  if (cut && shown !== masked) cut.cut = true;
  return shown;
}

/** Whether `text` is longer than `maxBytes` in UTF-8 (a UTF-16 unit is at most 3 bytes: short texts are not measured). */
function overBytes(text: string, maxBytes: number): boolean {
  return text.length * 3 > maxBytes && Buffer.byteLength(text, 'utf8') > maxBytes;
}

/** A reference as the aggregator sees it when it starts: which one, and how it went so far. */
export interface ReferenceState {
  context: SpanContext;
  index: number | undefined;
  label?: string;
  state: 'open' | 'ok' | 'failed';
  /** A failed reference's `error.type`. */
  errorType?: string;
  /** A reference of an earlier iteration whose advice a cache HIT reuses. */
  reused?: boolean;
}

/** The aggregator's link to a reference, saying which one and how it went. */
export function referenceLink(reference: ReferenceState): Link {
  // Assigned in order, not spread: made for every reference of every aggregator.
  const attributes: Attributes = {};
  if (reference.index !== undefined) attributes[A.MOA_REFERENCE_INDEX] = reference.index;
  attributes[A.MOA_REFERENCE_OUTCOME] = reference.state;
  if (reference.reused) attributes[A.MOA_REFERENCE_REUSED] = true;
  return { context: reference.context, attributes };
}

/** The links' outcomes as one aggregator attribute (`ok,failed,ok`), in link order; nothing when there are no references. */
export function referenceOutcomesAttributes(references: readonly ReferenceState[]): Attributes {
  return references.length > 0 ? { [A.MOA_REFERENCES_OUTCOMES]: references.map((r) => r.state).join(',') } : {};
}

/** One aggregator event per failed reference: what both Jaeger UIs list under the span (its logs). */
export function referenceFailureEvents(references: readonly ReferenceState[]): { name: string; attributes: Attributes }[] {
  return references.filter((r) => r.state === 'failed').map((r) => ({
    name: A.MOA_REFERENCE_FAILURE_EVENT,
    attributes: {
      ...(r.index !== undefined ? { [A.MOA_REFERENCE_INDEX]: r.index } : {}),
      ...(r.label !== undefined ? { [A.MOA_LABEL]: r.label } : {}),
      [A.ERROR_TYPE]: r.errorType ?? '_OTHER',
    },
  }));
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
  /** A reasoning effort level the slot asks for (`low`, `high`, ...). */
  reasoningLevel?: string | null;
}

export function callSpanName(model: string): string {
  return `${A.OPERATION_CHAT} ${model}`;
}

export function defaultLabel(provider: string, model: string): string {
  return `${provider}:${model}`;
}

export interface CallContent {
  /** `gen_ai.input.messages` as JSON text. */
  inputMessages?: string;
  /** `gen_ai.tool.definitions` as JSON text (the aggregator's tools). */
  toolDefinitions?: string;
}

export function callStartAttributes(facts: CallFacts, content: CallContent = {}): Attributes {
  const attrs: Attributes = {
    [A.GEN_AI_OPERATION_NAME]: A.OPERATION_CHAT,
    [A.GEN_AI_PROVIDER_NAME]: facts.genAiProvider ?? facts.provider,
    [A.GEN_AI_REQUEST_MODEL]: facts.model,
    [A.MOA_ROLE]: facts.role,
    [A.MOA_LABEL]: facts.label,
  };
  // `stream=false` is the default and says nothing: only a streamed request is marked.
  if (facts.stream === true) attrs[A.GEN_AI_REQUEST_STREAM] = true;
  if (facts.reasoningLevel) attrs[A.GEN_AI_REQUEST_REASONING_LEVEL] = facts.reasoningLevel;
  if (facts.conversationId) attrs[A.GEN_AI_CONVERSATION_ID] = facts.conversationId;
  if (facts.role === A.ROLE_REFERENCE && facts.index !== undefined) attrs[A.MOA_REFERENCE_INDEX] = facts.index;
  if (typeof facts.temperature === 'number') attrs[A.GEN_AI_REQUEST_TEMPERATURE] = facts.temperature;
  if (facts.serverAddress) attrs[A.SERVER_ADDRESS] = facts.serverAddress;
  if (facts.serverPort !== undefined) attrs[A.SERVER_PORT] = facts.serverPort;
  if (content.inputMessages !== undefined) attrs[A.GEN_AI_INPUT_MESSAGES] = content.inputMessages;
  if (content.toolDefinitions !== undefined) attrs[A.GEN_AI_TOOL_DEFINITIONS] = content.toolDefinitions;
  return attrs;
}

/** Messages in the GenAI role+parts schema, masked and cut to the display cap, as JSON text. */
export function inputMessagesAttribute(messages: readonly ChatMessage[] | readonly unknown[], policy: ContentPolicy, cut?: CutFlag): string {
  return contentJson(toGenAiMessages(messages), policy, cut);
}

/**
 * Any content value as it may appear on a span: masked, then cut to the
 * display cap (in that order — a secret cut first might no longer match its
 * pattern), serialized through the masking replacer (which also masks keys).
 */
export function contentJson(value: unknown, policy: ContentPolicy, cut?: CutFlag): string {
  let shown = value;
  const maxBytes = policy.maxContentBytes;
  if (maxBytes !== undefined) {
    try {
      shown = capStrings(value, maxBytes, (text) => {
        const masked = policy.redactText(text);
        if (cut && !cut.cut && overBytes(masked, maxBytes)) cut.cut = true;
        return masked;
      });
    } catch {
      // Nesting too deep to walk: shown uncut (the OTLP size guard still bounds the request).
    }
  }
  return safeStringify(shown, policy.replacer);
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

/** `gen_ai.output.messages` of a call that answered, or undefined when it said nothing. */
export function outputMessagesAttribute(outcome: CallOutcome, policy: ContentPolicy, cut?: CutFlag): string | undefined {
  const hasOutput = (typeof outcome.output === 'string' && outcome.output !== '') || (outcome.toolCalls?.length ?? 0) > 0;
  // The policy's replacer redacts every string, the output text included.
  return hasOutput ? contentJson([outputMessage(outcome.output, outcome.toolCalls, outcome.finishReason)], policy, cut) : undefined;
}

/** What a turn or call answered, as one line of text: the text, else the tool calls it asked for. */
export function answerText(output: string | null | undefined, toolCalls: readonly unknown[] | null | undefined): string | null {
  if (typeof output === 'string' && output !== '') return output;
  const names = (toolCalls ?? []).map((call) => {
    const fn = (call as { function?: { name?: unknown; arguments?: unknown } } | null)?.function;
    return `${typeof fn?.name === 'string' ? fn.name : 'tool'}(${typeof fn?.arguments === 'string' ? fn.arguments : ''})`;
  });
  return names.length > 0 ? `tool calls: ${names.join(', ')}` : null;
}

export function callEndAttributes(outcome: CallOutcome, policy: ContentPolicy): Attributes {
  const attrs: Attributes = {};
  if (policy.spanContent) {
    const cut: CutFlag = { cut: false };
    const messages = outputMessagesAttribute(outcome, policy, cut);
    if (messages !== undefined) attrs[A.GEN_AI_OUTPUT_MESSAGES] = messages;
    // Phoenix's tables show a call's `output.value`: the text, not the JSON of the messages.
    const answer = policy.backendHints ? answerText(outcome.output, outcome.toolCalls) : null;
    if (answer !== null) {
      attrs[A.OUTPUT_VALUE] = displayText(answer, policy, cut);
      attrs[A.OUTPUT_MIME_TYPE] = A.MIME_TEXT;
    }
    if (cut.cut) attrs[A.MOA_CONTENT_TRUNCATED] = true;
  }
  if (outcome.responseModel) attrs[A.GEN_AI_RESPONSE_MODEL] = outcome.responseModel;
  if (outcome.responseId) attrs[A.GEN_AI_RESPONSE_ID] = outcome.responseId;
  const reasons = outcome.finishReasons ?? (outcome.finishReason ? [outcome.finishReason] : undefined);
  if (reasons && reasons.length > 0) attrs[A.GEN_AI_RESPONSE_FINISH_REASONS] = [...reasons];
  if (typeof outcome.timeToFirstChunkSeconds === 'number') attrs[A.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = outcome.timeToFirstChunkSeconds;
  // Added in place, not built apart and copied in: this runs for every call.
  if (outcome.usage) addTokenAttributes(attrs, outcome.usage, policy.latestConventions ? LATEST_CALL_TOKEN_NAMES : CALL_TOKEN_NAMES);
  if (outcome.cost) addCostAttributes(attrs, outcome.cost, policy);
  if (outcome.streamed !== undefined) attrs[A.MOA_AGGREGATOR_STREAMED] = outcome.streamed;
  if (outcome.outputLocation) attrs[A.MOA_AGGREGATOR_OUTPUT_LOCATION] = outcome.outputLocation;
  return attrs;
}

/** Attribute names for the five token buckets: one set per call, one for turn totals. */
interface TokenNames { input: string; output: string; cacheRead: string; cacheWrite: string; reasoning: string }

/** The released names, which Jaeger UI's GenAI view and Phoenix read today. */
const CALL_TOKEN_NAMES: TokenNames = {
  input: A.GEN_AI_USAGE_INPUT_TOKENS,
  output: A.GEN_AI_USAGE_OUTPUT_TOKENS,
  cacheRead: A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  cacheWrite: A.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  reasoning: A.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
};
/** The newest names (OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental). */
const LATEST_CALL_TOKEN_NAMES: TokenNames = { ...CALL_TOKEN_NAMES, cacheWrite: A.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS };
const MOA_TOTAL_TOKEN_NAMES: TokenNames = {
  input: A.MOA_USAGE_INPUT_TOKENS,
  output: A.MOA_USAGE_OUTPUT_TOKENS,
  cacheRead: A.MOA_USAGE_CACHE_READ_INPUT_TOKENS,
  cacheWrite: A.MOA_USAGE_CACHE_WRITE_INPUT_TOKENS,
  reasoning: A.MOA_USAGE_REASONING_OUTPUT_TOKENS,
};

/**
 * GenAI meaning: input INCLUDES cached reads and writes (`Usage.inputTokens`
 * is uncached), output includes reasoning. Breakdowns that are zero say
 * nothing and are left out.
 */
function addTokenAttributes(attrs: Attributes, u: Usage, names: TokenNames): void {
  attrs[names.input] = genAiInputTokens(u);
  attrs[names.output] = u.outputTokens;
  if (u.cacheReadTokens > 0) attrs[names.cacheRead] = u.cacheReadTokens;
  if (u.cacheWriteTokens > 0) attrs[names.cacheWrite] = u.cacheWriteTokens;
  if (u.reasoningTokens > 0) attrs[names.reasoning] = u.reasoningTokens;
}


function addCostAttributes(attrs: Attributes, cost: Cost, policy: ContentPolicy): void {
  attrs[A.MOA_COST_STATUS] = cost.status;
  const usd = costNumber(cost.usd);
  if (usd !== null) {
    attrs[A.MOA_COST_USD] = usd;
    // Langfuse reads a generation's cost from here.
    if (policy.backendHints) attrs[A.GEN_AI_USAGE_COST] = usd;
  }
  if (cost.source) attrs[A.MOA_COST_SOURCE] = cost.source;
}

function costNumber(usd: number | string | null | undefined): number | null {
  if (usd === null || usd === undefined) return null;
  const n = typeof usd === 'number' ? usd : Number(usd);
  return Number.isFinite(n) ? n : null;
}

/** The original feature's rule for where the aggregator's answer can be found. */
export function outputLocation(streamed: boolean, capturedText: string | null | undefined): OutputLocation {
  if (!streamed) return 'inline';
  return typeof capturedText === 'string' && capturedText !== '' ? 'inline_from_stream' : 'assistant_message_in_session_db';
}
