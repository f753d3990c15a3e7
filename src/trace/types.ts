import type { Context, SpanContext } from '@opentelemetry/api';

/** One chat message in OpenAI chat-completions format, kept exactly as sent. */
export type ChatMessage = Record<string, unknown> & { role: string };

import type { Usage } from '../record/usage.js';

export type { Usage };

export type CostStatus = 'actual' | 'estimated' | 'included' | 'unknown';

export interface Cost {
  /** US dollars; null when unknown. Decimal strings are accepted and kept exact in the record. */
  usd: number | string | null;
  status: CostStatus;
  /** Where the number came from, e.g. `provider`, `genai-prices`, `subscription`. */
  source?: string | null;
}

export interface ToolCall {
  id?: string;
  type?: string;
  function: { name: string; arguments: string };
  [extra: string]: unknown;
}

export type FanoutMode = 'user_turn' | 'per_iteration' | `every_n:${number}`;
export type CacheOutcome = 'miss' | 'hit';
export type OutputLocation = 'inline' | 'inline_from_stream' | 'assistant_message_in_session_db';

/**
 * A session id as the caller gave it: written to the record raw (`""` stays
 * `""`, a number stays a number); spans and file names use its text.
 */
export type SessionId = string | number | null;

/** A reference span of an earlier iteration whose advice this one reuses (a cache HIT). */
export interface ReusedReference {
  spanContext: SpanContext;
  index?: number;
  /** The reference had failed: its note, not advice, was reused. */
  failed?: boolean;
}

export interface TurnOptions {
  sessionId?: SessionId;
  preset: string;
  fanout?: FanoutMode | string;
  cache?: CacheOutcome;
  iteration?: number;
  /** Parent of the turn's root span; default the active context. */
  context?: Context;
  /**
   * The user's question this turn answers, shown as the root's input in
   * backends that list turns (Phoenix). Default: the last user message of
   * the first call.
   */
  input?: string;
  /**
   * On a cache HIT: the reference spans whose advice is reused. The
   * aggregator links to them and the root counts them
   * (`moa.reference.reused`), so a HIT shows where its advice came from.
   */
  reusedReferences?: readonly ReusedReference[];
}

export interface CallStart {
  /** `<provider>:<model>` by default. */
  label?: string;
  model: string;
  provider: string;
  /** GenAI provider name (`openai`, `anthropic`, ...); defaults to `provider`. */
  genAiProvider?: string;
  temperature?: number | null;
  /** The exact request messages (OpenAI chat format). Snapshot at start. */
  messages: readonly ChatMessage[];
  serverAddress?: string;
  serverPort?: number;
  /** A reasoning effort level the call asks for (`low`, `medium`, `high`). */
  reasoningLevel?: string | null;
}

export interface ReferenceStart extends CallStart {
  index: number;
}

export interface AggregatorStart extends CallStart {
  stream?: boolean;
  /** The tools offered to the aggregator (as sent), shown as `gen_ai.tool.definitions` when content is captured. */
  tools?: readonly unknown[];
}

export interface ResponseInfo {
  id?: string | null;
  model?: string | null;
  finishReasons?: readonly string[];
  /** Seconds from request to the first streamed chunk. */
  timeToFirstChunk?: number | null;
}

export interface CallEnd {
  output?: string | null;
  usage?: Partial<Usage> | null;
  cost?: Cost | null;
  response?: ResponseInfo | null;
}

export interface AggregatorEnd extends CallEnd {
  toolCalls?: readonly ToolCall[] | null;
  finishReason?: string | null;
}

/** What every call handle offers. Every method is safe to pass as a callback (`promise.catch(ref.fail)`). */
export interface CallHandle {
  readonly spanContext: SpanContext;
  /** The turn's context with this call's span active: run the provider request in it. */
  readonly context: Context;
  fail(error: unknown): void;
}

export interface ReferenceCall extends CallHandle {
  end(result?: CallEnd | null): void;
}

export interface AggregatorCall extends CallHandle {
  /** Record the moment the first streamed chunk arrived. */
  firstChunk(): void;
  end(result?: AggregatorEnd | null): void;
  /** Fails the call; `received` is what had arrived before it failed (a cut stream), recorded with the error. */
  fail(error: unknown, received?: AggregatorEnd | null): void;
}

export interface MoaTurn {
  readonly spanContext: SpanContext;
  /** The caller's context with the turn's root span active. */
  readonly context: Context;
  /** Whether anything is being recorded; callers may skip optional work when false. */
  readonly recording: boolean;
  startReference(start: ReferenceStart): ReferenceCall;
  startAggregator(start: AggregatorStart): AggregatorCall;
  /**
   * Runs `fn` with the reference's span active (`context.with`), so the
   * provider's HTTP request and anything instrumented inside nest under it.
   * The call ends when `fn` resolves (unless `fn` ended it with details) and
   * fails when `fn` rejects; `fn`'s result or error is passed through.
   */
  reference<T>(start: ReferenceStart, fn: (call: ReferenceCall) => T | Promise<T>): Promise<T>;
  /** The same for the aggregator. For a stream that outlives `fn`, use `startAggregator`. */
  aggregator<T>(start: AggregatorStart, fn: (call: AggregatorCall) => T | Promise<T>): Promise<T>;
  /** Ends the root span once every started call has ended. */
  end(): void;
}
