/**
 * Gathers the spans of each MoA iteration until it can be written.
 *
 * Call spans end before their root; they wait here, keyed by the root they
 * belong to. When a processor tells us about starts too, calls still running
 * are known as well, so an iteration whose root never ends (a call the caller
 * never ended, a stream nobody read) can still be written with what is
 * known: on eviction (too many or too old), at shutdown and at process exit.
 */
import type { Span } from '@opentelemetry/api';
import type { FinishedSpan } from '../trace/span-data.js';

/** A root or call span as first seen: live (still running) or finished. */
export type SeenSpan = FinishedSpan | (Span & Partial<FinishedSpan>);

export interface Iteration {
  /** The root span once it ended, else the live root if its start was seen. */
  root: SeenSpan | undefined;
  rootEnded: boolean;
  /** Calls in the order they were first seen; `ended` tells which finished. */
  calls: { span: SeenSpan; ended: boolean }[];
  firstSeenAt: number;
}

export interface AssemblerLimits {
  /** Iterations waiting for their root span, at most (default 1000). */
  maxPendingIterations?: number;
  /** An iteration whose root has not ended after this long is written as partial (default 1 hour). */
  maxPendingMs?: number;
}

export type PartialReason = 'evicted' | 'shutdown' | 'process exit';

/** How many evicted iterations are remembered, so their late spans are recognised (a bounded memory). */
const EVICTED_REMEMBERED = 10_000;

/** An iteration as kept here: with its root's ids, and whether it is kept under `trace/span`. */
interface Pending extends Iteration {
  traceId: string;
  spanId: string;
  joined: boolean;
}

export class TurnAssembler {
  /**
   * Pending iterations by their root's span id. Every span of a turn hands
   * over the same id string (its parent context's), whose hash the runtime
   * keeps: a key made by joining trace and span ids was a new string to
   * hash at each of a turn's ten lookups. A root whose span id another
   * trace's pending root already has (ids are random: next to never) is
   * kept under `trace/span` instead.
   */
  private readonly pending = new Map<string, Pending>();
  /** How many pending iterations are kept under `trace/span` (lookups try that key only when some are). */
  private joinedKeys = 0;
  /**
   * Iterations already written as partial (by `trace/span`). A span of one
   * that ends later must not open a second, wrong record of the same turn:
   * it is counted instead (`lateSpans`).
   */
  private readonly evicted = new Set<string>();
  /** Spans that arrived for an iteration already written as partial. */
  lateSpans = 0;
  private readonly maxPending: number;
  private readonly maxPendingMs: number;

  constructor(limits: AssemblerLimits, private readonly onEvicted: (iteration: Iteration) => void, private readonly now: () => number = Date.now) {
    this.maxPending = limits.maxPendingIterations ?? 1000;
    this.maxPendingMs = limits.maxPendingMs ?? 60 * 60 * 1000;
  }

  get size(): number {
    return this.pending.size;
  }

  rootStarted(root: SeenSpan): void {
    const context = root.spanContext();
    const entry = this.entry(context.traceId, context.spanId);
    if (entry) entry.root = root;
  }

  callStarted(call: SeenSpan, parentTraceId: string, parentSpanId: string): void {
    this.entry(parentTraceId, parentSpanId)?.calls.push({ span: call, ended: false });
  }

  callEnded(call: FinishedSpan): void {
    const parent = parentOf(call);
    if (!parent) return;
    const entry = this.entry(parent.traceId, parent.spanId);
    if (!entry) return;
    const seen = entry.calls.find((c) => c.span === call || c.span.spanContext().spanId === call.spanContext().spanId);
    if (seen) {
      seen.span = call;
      seen.ended = true;
    } else {
      entry.calls.push({ span: call, ended: true });
    }
  }

  /**
   * The root ended: its iteration leaves the assembler, complete (calls still
   * running are marked so). Undefined when it was already written as partial.
   */
  rootEnded(root: FinishedSpan): Iteration | undefined {
    const { traceId, spanId } = root.spanContext();
    if (this.evicted.size > 0) {
      const joined = joinedKey(traceId, spanId);
      if (this.evicted.has(joined)) {
        this.evicted.delete(joined);
        this.lateSpans += 1;
        return undefined;
      }
    }
    const entry = this.find(traceId, spanId);
    if (!entry) return { root, rootEnded: true, calls: [], firstSeenAt: this.now() };
    this.remove(entry);
    entry.root = root;
    entry.rootEnded = true;
    return entry;
  }

  /** Every pending iteration, oldest first, removed from the assembler. */
  drain(): Iteration[] {
    const all = [...this.pending.values()];
    this.pending.clear();
    this.joinedKeys = 0;
    return all;
  }

  private find(traceId: string, spanId: string): Pending | undefined {
    const entry = this.pending.get(spanId);
    if (entry !== undefined && entry.traceId === traceId) return entry;
    return this.joinedKeys > 0 ? this.pending.get(joinedKey(traceId, spanId)) : undefined;
  }

  private remove(entry: Pending): void {
    if (entry.joined) {
      this.pending.delete(joinedKey(entry.traceId, entry.spanId));
      this.joinedKeys -= 1;
    } else {
      this.pending.delete(entry.spanId);
    }
  }

  private entry(traceId: string, spanId: string): Pending | undefined {
    let entry = this.find(traceId, spanId);
    if (entry) return entry;
    if (this.evicted.size > 0 && this.evicted.has(joinedKey(traceId, spanId))) {
      this.lateSpans += 1;
      return undefined;
    }
    this.evictStale();
    const joined = this.pending.has(spanId);
    entry = { root: undefined, rootEnded: false, calls: [], firstSeenAt: this.now(), traceId, spanId, joined };
    if (joined) this.joinedKeys += 1;
    this.pending.set(joined ? joinedKey(traceId, spanId) : spanId, entry);
    return entry;
  }

  /** Iterations that are too old or too many leave, oldest first (a Map keeps insertion order). */
  private evictStale(): void {
    if (this.pending.size === 0) return;
    const now = this.now();
    for (const entry of this.pending.values()) {
      const tooMany = this.pending.size >= this.maxPending;
      if (!tooMany && now - entry.firstSeenAt < this.maxPendingMs) break;
      this.remove(entry);
      this.remember(joinedKey(entry.traceId, entry.spanId));
      this.onEvicted(entry);
    }
  }

  private remember(key: string): void {
    this.evicted.add(key);
    // A Set keeps insertion order: forget the oldest first.
    if (this.evicted.size > EVICTED_REMEMBERED) this.evicted.delete(this.evicted.values().next().value as string);
  }
}

/**
 * The parent of a span: `parentSpanContext` (OpenTelemetry JS 2.x and 3.x),
 * or the parent id older SDKs give beside the span's own trace id.
 */
export function parentOf(span: SeenSpan): { traceId: string; spanId: string } | undefined {
  if (span.parentSpanContext) return span.parentSpanContext;
  const legacy = (span as { parentSpanId?: unknown }).parentSpanId;
  return typeof legacy === 'string' && legacy !== '' ? { traceId: span.spanContext().traceId, spanId: legacy } : undefined;
}

function joinedKey(traceId: string, spanId: string): string {
  return `${traceId}/${spanId}`;
}
