/**
 * How recorded iterations group into user turns, and what a tool loop left
 * unrecorded. A user turn is one user message and every model iteration
 * that answers it (tool calls, tool results, more calls) up to the final
 * answer: the last aggregator text that asked for no tools.
 *
 * A record starts a new user turn when its `iteration` is 1 (moa-otel counts
 * iterations per user turn from 1). Files without `iteration` (the original
 * Python writer) are judged by the aggregator's request: the last message
 * before the guidance block is the caller's; a `tool` result there means the
 * loop goes on, anything else is a new question.
 *
 * By default cache-HIT iterations are not written, so a tool loop under
 * `fanout: user_turn` records its first iteration and nothing after. Seen
 * from the file: an iteration that asked for tools followed by a record that
 * starts a new user turn. At least one iteration ran unrecorded there (the
 * one that read the tool results), and so did every number skipped in
 * `iteration` within one turn.
 */
import type { AggregatorRecord, TurnRecord } from '../../record/schema.js';
import { isFailedCall } from '../summary.js';

/** Whether the record's aggregator asked for tools (so the loop went on after it). */
export function asksForTools(aggregator: AggregatorRecord): boolean {
  if (Array.isArray(aggregator.tool_calls) && aggregator.tool_calls.length > 0) return true;
  return aggregator.finish_reason === 'tool_calls' || aggregator.finish_reason === 'function_call';
}

/** The aggregator's text when it is a final answer (no tool calls, not failed, not empty). */
export function finalAnswerOf(aggregator: AggregatorRecord): string | null {
  if (asksForTools(aggregator) || isFailedCall(aggregator)) return null;
  return typeof aggregator.output === 'string' && aggregator.output.trim() !== '' ? aggregator.output : null;
}

/** Whether this record opens a new user turn (see the module comment). */
export function startsUserTurn(record: TurnRecord): boolean {
  if (typeof record.iteration === 'number') return record.iteration <= 1;
  const messages = record.aggregator.input_messages;
  let i = messages.length - 1;
  // The guidance block is a trailing user message after the caller's own last message.
  if (i > 0 && roleOf(messages[i]) === 'user' && roleOf(messages[i - 1]) !== 'assistant') i -= 1;
  const role = roleOf(messages[i]);
  return role !== 'tool' && role !== 'function';
}

/**
 * The previous user turn's final answer as the next request repeats it: the
 * last assistant message with text and no tool calls in the aggregator's
 * input. Used when that answer came from an iteration that was not written.
 */
export function previousAnswerIn(record: TurnRecord): string | null {
  const messages = record.aggregator.input_messages;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (roleOf(message) !== 'assistant') continue;
    const m = message as { content?: unknown; tool_calls?: unknown };
    if (Array.isArray(m.tool_calls) && m.tool_calls.length > 0) return null;
    const text = textOf(m.content);
    return text && text.trim() !== '' ? text : null;
  }
  return null;
}

function roleOf(message: unknown): string | undefined {
  return typeof message === 'object' && message !== null && typeof (message as { role?: unknown }).role === 'string'
    ? (message as { role: string }).role
    : undefined;
}

function textOf(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return null;
  const parts = content
    .map((p) => (typeof p === 'object' && p !== null && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : null))
    .filter((t): t is string => t !== null);
  return parts.length > 0 ? parts.join('\n') : null;
}

/** What one record means for the user turns of its session. */
export interface TurnStep {
  /** The record opens a new user turn (the previous one, if any, is over). */
  startsTurn: boolean;
  /** Iterations known to have run unrecorded just before this record (a lower bound). */
  unrecorded: number;
}

/**
 * Follows the records of each session in order and says where user turns
 * begin and how many iterations went unrecorded (the rules above). Holds
 * three small values per session.
 */
export class UserTurnTracker {
  private readonly sessions = new Map<string, { preset: string; lastIteration: number | null; askedTools: boolean }>();

  observe(record: TurnRecord, session: string): TurnStep {
    const state = this.sessions.get(session);
    const iteration = typeof record.iteration === 'number' ? record.iteration : null;
    let step: TurnStep;
    if (!state || state.preset !== record.preset || startsUserTurn(record)) {
      // The loop went on after the tools ran, and nothing of it was written.
      step = { startsTurn: true, unrecorded: state?.askedTools ? 1 : 0 };
    } else {
      const gap = iteration !== null && state.lastIteration !== null ? iteration - state.lastIteration - 1 : 0;
      step = { startsTurn: false, unrecorded: Math.max(0, gap) };
    }
    this.sessions.set(session, {
      preset: record.preset,
      lastIteration: iteration ?? (step.startsTurn ? null : state?.lastIteration ?? null),
      askedTools: asksForTools(record.aggregator),
    });
    return step;
  }
}

/** The note every total that may miss unrecorded iterations carries. */
export function unrecordedNote(count: number): string {
  return `≥ ${count} ${count === 1 ? 'iteration' : 'iterations'} not recorded; their spend is missing — set trace_cache_hits`;
}
