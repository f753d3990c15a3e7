/**
 * `JsonlTurnExporter`: a SpanExporter that writes one JSON line per MoA
 * iteration to `<trace dir>/<sanitized session id>.jsonl`.
 *
 * Run it behind a SimpleSpanProcessor: every span reaches it as it ends, in
 * order, with nothing dropped by a batch queue. Call spans wait in memory
 * until their root ends; iterations whose root never ends are bounded in
 * number and age, then dropped and reported, never leaked.
 */
import { diag } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { resolveTraceDir, sessionFilePath, type Env } from '../config/paths.js';
import * as A from '../trace/attributes.js';
import { AppendWriter, type WriterStats } from './append-writer.js';
import { RawSlots, serializeLine } from './json-line.js';
import { buildTurnRecord, isMoaCall, isMoaRoot } from './turn-record.js';

export interface JsonlTurnExporterOptions {
  /** `trace_dir` as configured (`~`, `$VAR` expanded at write time); default `<home>/moa-traces`. */
  traceDir?: string | null;
  /** Also write cache-HIT iterations (default: MISS only, like the original feature). */
  traceCacheHits?: boolean;
  profile?: string | null;
  /** Environment used to resolve the home and trace dir at write time (default: process.env). */
  env?: Env;
  /** Iterations waiting for their root span, at most (default 1000). */
  maxPendingIterations?: number;
  /** An iteration whose root has not ended after this long is dropped (default 1 hour). */
  maxPendingMs?: number;
}

export interface JsonlExporterStats extends WriterStats {
  turnsSkippedCacheHit: number;
  incompleteDropped: number;
}

interface PendingIteration {
  calls: ReadableSpan[];
  firstSeenAt: number;
}

export class JsonlTurnExporter implements SpanExporter {
  private readonly writer = new AppendWriter();
  private readonly pending = new Map<string, PendingIteration>();
  private readonly maxPending: number;
  private readonly maxPendingMs: number;
  private turnsSkippedCacheHit = 0;
  private incompleteDropped = 0;
  private incompleteReported = false;
  private stopped = false;

  constructor(private readonly options: JsonlTurnExporterOptions = {}) {
    this.maxPending = options.maxPendingIterations ?? 1000;
    this.maxPendingMs = options.maxPendingMs ?? 60 * 60 * 1000;
  }

  get stats(): JsonlExporterStats {
    return { ...this.writer.stats, turnsSkippedCacheHit: this.turnsSkippedCacheHit, incompleteDropped: this.incompleteDropped };
  }

  /** Iterations currently waiting for their root span. */
  get pendingIterations(): number {
    return this.pending.size;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.stopped) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('JsonlTurnExporter is shut down') });
      return;
    }
    for (const span of spans) {
      try {
        this.accept(span);
      } catch (err) {
        // Never let one odd span break the pipeline for the others.
        diag.error(`moa-otel: JSONL exporter skipped a span: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  private accept(span: ReadableSpan): void {
    if (isMoaRoot(span)) {
      const key = iterationKey(span.spanContext().traceId, span.spanContext().spanId);
      const calls = this.pending.get(key)?.calls ?? [];
      this.pending.delete(key);
      this.writeIteration(span, calls);
      return;
    }
    if (!isMoaCall(span) || !span.parentSpanContext) return;
    const key = iterationKey(span.parentSpanContext.traceId, span.parentSpanContext.spanId);
    let entry = this.pending.get(key);
    if (!entry) {
      this.evictStale();
      entry = { calls: [], firstSeenAt: Date.now() };
      this.pending.set(key, entry);
    }
    entry.calls.push(span);
  }

  private writeIteration(root: ReadableSpan, calls: ReadableSpan[]): void {
    if (root.attributes[A.MOA_CACHE] === 'hit' && !this.options.traceCacheHits) {
      this.turnsSkippedCacheHit += 1;
      return;
    }
    const sessionId = root.attributes[A.MOA_SESSION_ID];
    const file = this.fileFor(typeof sessionId === 'string' ? sessionId : null);
    const slots = new RawSlots();
    this.writer.appendLine(file, serializeLine(buildTurnRecord(root, calls, slots), slots));
  }

  /**
   * The file a session's lines go to, resolved now: MOA_HOME may change
   * between turns and must be honoured, so every line asks again.
   */
  fileFor(sessionId: string | null | undefined): string {
    const dir = resolveTraceDir(this.options.traceDir, this.options.env ?? process.env, this.options.profile);
    return sessionFilePath(dir, sessionId);
  }

  /** Drops iterations that are too old or too many (oldest first: Map keeps insertion order). */
  private evictStale(): void {
    const now = Date.now();
    for (const [key, entry] of this.pending) {
      const tooMany = this.pending.size >= this.maxPending;
      if (!tooMany && now - entry.firstSeenAt < this.maxPendingMs) break;
      this.pending.delete(key);
      this.incompleteDropped += 1;
      if (!this.incompleteReported) {
        this.incompleteReported = true;
        diag.warn(`moa-otel: dropped an MoA iteration whose root span never ended (${entry.calls.length} call span(s)); later drops are counted in exporter.stats.incompleteDropped`);
      }
    }
  }

  forceFlush(): Promise<void> {
    // Lines are written synchronously when their root ends: nothing is buffered.
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.stopped = true;
    if (this.pending.size > 0) {
      this.incompleteDropped += this.pending.size;
      diag.warn(`moa-otel: shutdown with ${this.pending.size} MoA iteration(s) still open; their root spans never ended, so no line was written`);
      this.pending.clear();
    }
    return Promise.resolve();
  }
}

function iterationKey(traceId: string, spanId: string): string {
  return `${traceId}/${spanId}`;
}
