/**
 * Per-client cache of reference outputs and the iteration counter of each
 * user turn.
 *
 * A user turn is a session, a preset and the advisory view up to the last
 * user message. The cache key is the session, the preset, a signature of the
 * view and the reference labels; what the signature covers depends on the
 * fan-out mode:
 *
 * - `user_turn` (default): the view up to the last real user message, so the
 *   tool iterations answering one user message share one fan-out;
 * - `per_iteration`: the whole view, so every new tool result reruns the
 *   references;
 * - `every_n:N`: the user-turn view plus the block number of the iteration,
 *   so the references rerun on iterations 1, N+1, 2N+1, ... of a user turn.
 *
 * Views are hashed once (SHA-256) and only the hashes go into keys.
 */
import { createHash } from 'node:crypto';
import type { ChatMessage, FanoutMode, SessionId } from '../trace/types.js';
import { buildAdvisoryView, type AdvisoryMessage, type AdvisoryViewOptions } from './advisory-view.js';
import type { ReferenceOutcome } from './guidance.js';

const MAX_ENTRIES = 256;

export interface ParsedFanout {
  mode: 'user_turn' | 'per_iteration' | 'every_n';
  every: number;
}

export function parseFanout(fanout: FanoutMode | string): ParsedFanout {
  if (fanout === 'per_iteration') return { mode: 'per_iteration', every: 1 };
  const match = /^every_n:([1-9]\d*)$/.exec(fanout);
  if (match) return { mode: 'every_n', every: Number(match[1]) };
  return { mode: 'user_turn', every: Number.POSITIVE_INFINITY };
}

/**
 * Messages up to and including the last `user` message (tool results are not
 * user messages); `messages` itself when nothing comes after it.
 */
function upToLastUserMessage(messages: readonly ChatMessage[]): readonly ChatMessage[] {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === 'user') return i === messages.length - 1 ? messages : messages.slice(0, i + 1);
  }
  return messages;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface CachePlan {
  key: string;
  /** 1-based iteration within the current user turn. */
  iteration: number;
}

export class ReferenceCache {
  readonly #outputs = new Map<string, ReferenceOutcome[]>();
  /** Per user turn: the last iteration number and (every_n) the view state it was counted for. */
  readonly #iterations = new Map<string, { iteration: number; state: string | undefined }>();

  /**
   * Counts this call as the next iteration of its user turn and returns the
   * cache key it should use.
   */
  plan(args: {
    sessionId: SessionId;
    preset: string;
    fanout: FanoutMode | string;
    messages: readonly ChatMessage[];
    labels: readonly string[];
    viewOptions?: AdvisoryViewOptions;
    /** The advisory view of all `messages` (with `viewOptions`), when the caller builds it anyway. */
    view?: () => readonly AdvisoryMessage[];
  }): CachePlan {
    const { mode, every } = parseFanout(args.fanout);
    let wholeHash: string | undefined;
    const hashWholeView = () => (wholeHash ??= sha256(JSON.stringify(args.view?.() ?? buildAdvisoryView(args.messages, args.viewOptions))));
    const userTurn = upToLastUserMessage(args.messages);
    // A user turn's first iteration ends on its user message: one view then serves both hashes (and the fan-out).
    const userTurnHash = userTurn === args.messages ? hashWholeView() : sha256(JSON.stringify(buildAdvisoryView(userTurn, args.viewOptions)));
    const turnKey = JSON.stringify([args.sessionId, args.preset, userTurnHash]);
    const seen = this.#iterations.get(turnKey);
    // every_n counts conversation states, as the original does: an identical retry of an
    // iteration (a re-sent request) is that iteration again and uses up no cadence slot.
    // (Other modes skip the whole-view hash on a HIT, so they count calls.)
    const state = mode === 'every_n' ? hashWholeView() : undefined;
    const iteration = seen && state !== undefined && seen.state === state ? seen.iteration : (seen?.iteration ?? 0) + 1;
    remember(this.#iterations, turnKey, { iteration, state });

    let signature: string;
    if (mode === 'per_iteration') signature = hashWholeView();
    else if (mode === 'every_n') signature = `${userTurnHash}:block:${Math.floor((iteration - 1) / every)}`;
    else signature = userTurnHash;
    // Another session asking the same question is another user turn: its advisors run for it.
    const key = JSON.stringify([args.sessionId, args.preset, signature, args.labels]);
    return { key, iteration };
  }

  get(key: string): ReferenceOutcome[] | undefined {
    const hit = this.#outputs.get(key);
    return hit?.map((o) => ({ ...o }));
  }

  set(key: string, outcomes: readonly ReferenceOutcome[]): void {
    remember(this.#outputs, key, outcomes.map((o) => ({ ...o })));
  }

  clear(): void {
    this.#outputs.clear();
    this.#iterations.clear();
  }
}

/** Insert as most recent and drop the oldest entries beyond the bound (a long-lived client must not grow forever). */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > MAX_ENTRIES) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) break;
    map.delete(oldest);
  }
}
