import type { Tracer } from '@opentelemetry/api';

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

export interface TurnOptions {
  sessionId?: string | null;
  preset: string;
  fanout?: FanoutMode | string;
  cache?: CacheOutcome;
  iteration?: number;
  /** Defaults to the global tracer named `moa-otel`. */
  tracer?: Tracer;
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
}

export interface ReferenceStart extends CallStart {
  index: number;
}

export interface AggregatorStart extends CallStart {
  stream?: boolean;
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

export interface ReferenceCall {
  readonly spanContext: import('@opentelemetry/api').SpanContext;
  end(result?: CallEnd): void;
  fail(error: unknown): void;
}

export interface AggregatorCall {
  readonly spanContext: import('@opentelemetry/api').SpanContext;
  /** Record the moment the first streamed chunk arrived. */
  firstChunk(): void;
  end(result?: AggregatorEnd): void;
  fail(error: unknown): void;
}

export interface MoaTurn {
  readonly spanContext: import('@opentelemetry/api').SpanContext;
  /** Whether anything is being recorded; callers may skip optional work when false. */
  readonly recording: boolean;
  startReference(start: ReferenceStart): ReferenceCall;
  startAggregator(start: AggregatorStart): AggregatorCall;
  /** Ends the root span once every started call has ended. */
  end(): void;
}
