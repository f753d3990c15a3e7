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

export class TurnAssembler {
  private readonly pending = new Map<string, Iteration>();
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
    this.entry(keyOf(root.spanContext().traceId, root.spanContext().spanId)).root = root;
  }

  callStarted(call: SeenSpan, parentTraceId: string, parentSpanId: string): void {
    this.entry(keyOf(parentTraceId, parentSpanId)).calls.push({ span: call, ended: false });
  }

  callEnded(call: FinishedSpan): void {
    const parent = call.parentSpanContext;
    if (!parent) return;
    const entry = this.entry(keyOf(parent.traceId, parent.spanId));
    const seen = entry.calls.find((c) => c.span === call || c.span.spanContext().spanId === call.spanContext().spanId);
    if (seen) {
      seen.span = call;
      seen.ended = true;
    } else {
      entry.calls.push({ span: call, ended: true });
    }
  }

  /** The root ended: its iteration leaves the assembler, complete (calls still running are marked so). */
  rootEnded(root: FinishedSpan): Iteration {
    const key = keyOf(root.spanContext().traceId, root.spanContext().spanId);
    const entry = this.pending.get(key) ?? { root, rootEnded: true, calls: [], firstSeenAt: this.now() };
    this.pending.delete(key);
    entry.root = root;
    entry.rootEnded = true;
    return entry;
  }

  /** Every pending iteration, oldest first, removed from the assembler. */
  drain(): Iteration[] {
    const all = [...this.pending.values()];
    this.pending.clear();
    return all;
  }

  private entry(key: string): Iteration {
    let entry = this.pending.get(key);
    if (!entry) {
      this.evictStale();
      entry = { root: undefined, rootEnded: false, calls: [], firstSeenAt: this.now() };
      this.pending.set(key, entry);
    }
    return entry;
  }

  /** Iterations that are too old or too many leave, oldest first (a Map keeps insertion order). */
  private evictStale(): void {
    const now = this.now();
    for (const [key, entry] of this.pending) {
      const tooMany = this.pending.size >= this.maxPending;
      if (!tooMany && now - entry.firstSeenAt < this.maxPendingMs) break;
      this.pending.delete(key);
      this.onEvicted(entry);
    }
  }
}

function keyOf(traceId: string, spanId: string): string {
  return `${traceId}/${spanId}`;
}
