/**
 * The live `setupMoaTracing` pipelines of the process, oldest first, so that
 * `startMoaTurn()` without an instrumentation records through the most
 * recent one (and, after its shutdown, through the one before it).
 *
 * The list lives on `globalThis` under a `Symbol.for` key: an app may load
 * moa-otel twice (ESM and CJS, a framework's nested install), and a turn
 * started through one copy must find a pipeline set up through the other.
 * Entries are read structurally (anything with `startTurn`), never by class.
 *
 * Also process-wide: whether any copy built a JSONL sink, which is how the
 * default instance knows that a turn reaching a provider without moa-otel's
 * processors is missing from files somebody expects.
 */
import type { MoaTurn, TurnOptions } from './types.js';

/** What a pipeline contributes: its instrumentation's `startTurn` (possibly another copy's). */
export interface LivePipeline {
  startTurn(options: TurnOptions): MoaTurn;
}

const PIPELINES = Symbol.for('moa-otel.live-pipelines.v1');
const JSONL_SINK_BUILT = Symbol.for('moa-otel.jsonl-sink-built.v1');

type Shared = { [PIPELINES]?: unknown; [JSONL_SINK_BUILT]?: unknown };
const shared = globalThis as Shared;

function pipelines(): LivePipeline[] {
  const list = shared[PIPELINES];
  if (Array.isArray(list)) return list as LivePipeline[];
  const fresh: LivePipeline[] = [];
  shared[PIPELINES] = fresh;
  return fresh;
}

/** Adds a pipeline as the most recent one; the returned function removes it (idempotent). */
export function addLivePipeline(pipeline: LivePipeline): () => void {
  pipelines().push(pipeline);
  return () => {
    const list = pipelines();
    const at = list.lastIndexOf(pipeline);
    if (at >= 0) list.splice(at, 1);
  };
}

/** The most recent live pipeline of any loaded copy, or undefined. */
export function latestLivePipeline(): LivePipeline | undefined {
  const list = pipelines();
  for (let i = list.length - 1; i >= 0; i -= 1) {
    const entry = list[i];
    // Another copy (or anything) may have put something odd there: skip what cannot start a turn.
    if (entry !== null && typeof entry === 'object' && typeof entry.startTurn === 'function') return entry;
  }
  return undefined;
}

/** Noted when any copy builds a JSONL sink (`save_traces` is on somewhere in the process). */
export function noteJsonlSinkBuilt(): void {
  shared[JSONL_SINK_BUILT] = true;
}

export function jsonlSinkBuilt(): boolean {
  return shared[JSONL_SINK_BUILT] === true;
}
