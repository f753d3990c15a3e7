/**
 * The JSONL turn sink: one JSON line per MoA iteration in
 * `<trace dir>/<sanitized session id>.jsonl` (docs/ARCHITECTURE.md, "How a
 * line gets written").
 *
 * Two faces over one core:
 * - `JsonlSpanProcessor`, a span processor of its own (no SDK needed, fits
 *   OpenTelemetry JS 2.x and 3.x providers alike): it sees spans start, so it
 *   asks the instrumentation for the exact messages and knows which calls are
 *   still running when an iteration has to be written early;
 * - `JsonlTurnExporter`, a plain span exporter for a provider's own
 *   `SimpleSpanProcessor`: it sees ended spans only, and takes content from
 *   the span attributes.
 * Iterations whose root never ends are written as partial records when
 * evicted (too many or too old), at shutdown and at process exit: a turn is
 * never dropped. Nothing here throws into the provider.
 */
import { diag, type Context, type Span } from '@opentelemetry/api';
import { CauseReporter } from '../base/cause-reporter.js';
import { errorText, firstLine } from '../base/errors.js';
import { resolveTraceDir, sessionFilePath, type Env } from '../config/paths.js';
import type { MessagePiece } from '../content/message-cache.js';
import type { RedactSetting } from '../content/redact.js';
import * as A from '../trace/attributes.js';
import { ContentPolicy } from '../trace/content-policy.js';
import { requestMessagePieces, requestPayload, turnPayloadOf } from '../trace/payloads.js';
import {
  EXPORT_FAILED, EXPORT_SUCCESS,
  type ExportResultLike, type FinishedSpan, type SpanExporterLike, type SpanProcessorLike,
} from '../trace/span-data.js';
import { AppendWriter, MAX_LINE_CHUNKS, type WriterStats } from './append-writer.js';
import { flushAtExit, type ExitFlushable } from './exit-flush.js';
import { CompactFiles, contentIdInSlices, encodeCompact } from './compact-line.js';
import { DEFAULT_MAX_LINE_BYTES, encodeLine, LineScratch, RawSlots } from './json-line.js';
import { ChunkArena, COPY_BYTES_PER_STEP, fewerChunks } from './line-chunks.js';
import { chunksBeforeJoining, MessageSlabs } from './message-slab.js';
import { serializeInSlices, SLICED_MESSAGE_CHARS, SLICED_MESSAGE_MAX_CHARS } from './sliced-json.js';
import { SlicedQueue, type Pause, type SlicedJob, type WriteMode } from './sliced-queue.js';
import { parentOf, TurnAssembler, type AssemblerLimits, type Iteration, type PartialReason, type SeenSpan } from './turn-assembler.js';
import { buildTurnRecord, isMoaCall, isMoaRoot } from './turn-record.js';

export interface JsonlTurnExporterOptions extends AssemblerLimits {
  /** `trace_dir` as configured (`~`, `$VAR` expanded at write time); default `<home>/moa-traces`. */
  traceDir?: string | null;
  /** Also write cache-HIT iterations (default: MISS only, like the original feature). */
  traceCacheHits?: boolean;
  profile?: string | null;
  /** Environment used to resolve the home and trace dir at write time (default: process.env). */
  env?: Env;
  /**
   * The file's own redaction. Content that reaches the file masked some
   * other way (or not at all) is masked again before it is written.
   */
  redact?: RedactSetting;
  /**
   * The pipeline's content policy, the object its instrumentation records
   * with (wins over `redact`): content that policy produced is written as
   * it comes, anything else is masked again by it. Only its redaction
   * applies here; the file keeps content whatever the capture mode.
   */
  policy?: ContentPolicy;
  /**
   * `jsonl` (default): the original format. `compact`: each distinct message
   * stored once per file, records referring to it (docs/compact-format.md);
   * `moa-otel expand` and every reader give back the original lines.
   */
  traceFormat?: TraceFormat;
}

export type TraceFormat = 'jsonl' | 'compact';

/** A step of a line's work: one piece of work, or a generator of pieces (`yield`: a pause). */
type LineStep = () => Generator<'step', unknown, undefined> | void;
/** `lineSteps`: a line with no steps, small enough to be built and written at once. */
const AT_ONCE = 'at once';

/**
 * Records whose messages not yet serialized add up to more characters than
 * this are finished across event-loop ticks (`sliced-queue.ts`); smaller
 * ones are written at once, when their turn ends.
 */
export const WRITE_AT_ONCE_CHARS = 64 * 1024;
/**
 * Records whose message arrays hold more characters than this in all (a
 * message in four arrays counts four times) go through the queue as well,
 * even when every message is serialized already: building and writing their
 * line is itself the block to avoid (a long session's turn repeats its whole
 * conversation per reference).
 */
export const QUEUE_LINE_CHARS = 128 * 1024;
/**
 * Lines of at least this many bytes are written on the thread pool
 * (`AppendWriter.appendLineInBackground`): the copy into the page cache
 * costs about a millisecond per 3 MB, which the event loop should not wait
 * for. Smaller lines are written at once (a round trip to the pool would
 * cost more than it saves).
 */
export const WRITE_IN_BACKGROUND_BYTES = 1024 * 1024;

export interface JsonlExporterStats extends WriterStats {
  turnsSkippedCacheHit: number;
  /** Iterations written without their root span having ended (see `partial_reason` in the record). */
  partialTurnsWritten: number;
  /** Spans that arrived after shutdown and could not be written. */
  spansAfterShutdown: number;
  /** Spans that ended after their iteration was already written as partial (evicted). */
  spansAfterEviction: number;
}

/** The shared core: gathers iterations and writes their lines. */
class TurnFileSink implements ExitFlushable {
  private readonly writer = new AppendWriter();
  /** Each line is written before the next is encoded: one buffer serves them all. */
  private readonly scratch = new LineScratch();
  private readonly assembler: TurnAssembler;
  readonly policy: ContentPolicy;
  private readonly reporter = new CauseReporter((message) => diag.warn(message));
  private flushedAtExit = false;
  private lastFile = { key: '', path: '' };
  /** A `trace_dir` naming other variables (`$VAR`) is resolved at every line. */
  private readonly traceDirReadsVariables: boolean;
  /** A `trace_dir` is configured and names neither `~` nor a variable: the environment plays no part in the path. */
  private readonly traceDirIsFixed: boolean;
  /** Lines whose work is split across ticks, in order; while it holds any, every line goes through it. */
  private readonly queue = new SlicedQueue(() => this.trackPending());
  private readonly compactFiles: CompactFiles | undefined;
  /** Memory for merging a line's buffers, reused from line to line (`line-chunks.ts`). */
  private readonly arena = new ChunkArena();
  /** Each session's message bytes side by side, so a long line needs no merging (`message-slab.ts`). */
  private readonly slabs = new MessageSlabs();
  private turnsSkippedCacheHit = 0;
  private partialTurnsWritten = 0;
  private spansAfterShutdown = 0;
  stopped = false;

  constructor(private readonly options: JsonlTurnExporterOptions) {
    this.policy = options.policy ?? new ContentPolicy({ redact: options.redact ?? false });
    this.traceDirReadsVariables = (options.traceDir ?? '').includes('$');
    const traceDir = options.traceDir?.trim() ?? '';
    this.traceDirIsFixed = traceDir !== '' && !traceDir.startsWith('~') && !this.traceDirReadsVariables;
    this.assembler = new TurnAssembler(options, (iteration) => this.writePartial(iteration, 'evicted'));
    this.compactFiles = options.traceFormat === 'compact' ? new CompactFiles() : undefined;
  }

  get stats(): JsonlExporterStats {
    return {
      ...this.writer.stats,
      turnsSkippedCacheHit: this.turnsSkippedCacheHit,
      partialTurnsWritten: this.partialTurnsWritten,
      spansAfterShutdown: this.spansAfterShutdown,
      spansAfterEviction: this.assembler.lateSpans,
    };
  }

  get pendingIterations(): number {
    return this.assembler.size;
  }

  /** Nothing waits to be written: every ended turn's line is out. */
  get idle(): boolean {
    return this.queue.idle;
  }

  /** The line being written on the thread pool, if any (resolves when done, never rejects). */
  get writeInFlight(): Promise<unknown> | undefined {
    return this.queue.writeInFlight;
  }

  /** Resolves when every line handed to the queue is written. */
  flushed(): Promise<void> {
    return this.queue.whenIdle();
  }

  started(span: Span): void {
    const seen = span as SeenSpan;
    if (isMoaRoot(seen)) {
      requestPayload(span);
      this.assembler.rootStarted(seen);
    } else if (isMoaCall(seen)) {
      const parent = parentOf(seen);
      if (!parent) return;
      requestPayload(span);
      // The compact format stores each message once per file: it needs them one by one.
      if (this.compactFiles) requestMessagePieces(span);
      this.assembler.callStarted(seen, parent.traceId, parent.spanId);
    }
    this.trackPending();
  }

  ended(span: FinishedSpan): void {
    if (this.stopped) {
      if (isMoaRoot(span) || isMoaCall(span)) this.spansAfterShutdown += 1;
      return;
    }
    if (isMoaRoot(span)) {
      const iteration = this.assembler.rootEnded(span);
      if (iteration) this.write(iteration);
    } else if (isMoaCall(span)) this.assembler.callEnded(span);
    this.trackPending();
  }

  /** Flushed at process exit exactly while something is pending. */
  private trackPending(): void {
    const pending = this.assembler.size > 0 || !this.queue.idle;
    if (pending !== this.flushedAtExit) {
      this.flushedAtExit = pending;
      flushAtExit(this, pending);
    }
  }

  flushAtExit(): void {
    this.drain('process exit');
    this.trackPending();
  }

  /** Writes every pending iteration as partial, and every queued line, now. */
  drain(reason: PartialReason): void {
    // At exit a line may still wait for the thread pool: what is written now must go after it.
    if (this.queue.writeInFlight) this.writer.waitForBackgroundWritesToBegin();
    for (const iteration of this.assembler.drain()) this.writePartial(iteration, reason);
    this.queue.runAll();
  }

  shutdown(): void {
    if (this.stopped) return;
    this.drain('shutdown');
    this.stopped = true;
    this.trackPending();
    this.writer.close();
  }

  /**
   * The file a session's lines go to, resolved now: MOA_HOME may change
   * between turns and must be honoured, so every line asks again.
   */
  fileFor(sessionId: string | null | undefined): string {
    const env = this.options.env ?? process.env;
    // What the path depends on, read now; the last answer is reused while none of it changed. A
    // configured directory without `~` or `$` depends on no variable: none is read (each read of
    // process.env is a call into the runtime, for every line).
    const key = this.traceDirIsFixed
      ? `${sessionId}`
      : `${env.MOA_HOME}\0${env.HERMES_HOME}\0${env.HOME}\0${env.MOA_PROFILE}\0${sessionId}`;
    if (key === this.lastFile.key && !this.traceDirReadsVariables) return this.lastFile.path;
    const file = sessionFilePath(resolveTraceDir(this.options.traceDir, env, this.options.profile), sessionId);
    this.lastFile = { key, path: file };
    return file;
  }

  /** A span the sink could not take; the first of each cause is logged, the rest counted. */
  skipped(err: unknown): void {
    this.reporter.fail(`skipped:${errorText(err)}`, () => `moa-otel: JSONL sink skipped a span: ${firstLine(errorText(err))}`);
  }

  private writePartial(iteration: Iteration, reason: PartialReason): void {
    if (this.write(iteration, reason)) {
      this.partialTurnsWritten += 1;
      this.reporter.fail(`partial:${reason}`, () => `moa-otel: wrote a partial MoA record (${reason}): its root span never ended `
        + `(a call never ended, or a streamed answer was never read); later ones are counted in stats.partialTurnsWritten`);
    }
  }

  /** Returns whether a line was written. */
  private write(iteration: Iteration, partial?: PartialReason): boolean {
    try {
      const root = iteration.root;
      const turn = root ? turnPayloadOf(root) : undefined;
      const cache = turn?.cache ?? root?.attributes?.[A.MOA_CACHE];
      if (cache === 'hit' && !this.options.traceCacheHits) {
        this.turnsSkippedCacheHit += 1;
        return false;
      }
      const slots = new RawSlots();
      const record = buildTurnRecord(iteration, { slots, policy: this.policy, ...(partial ? { partial } : {}) });
      const sessionId = record.session_id;
      // A numeric session id is recorded raw and names its file by its text.
      const fileKey = typeof sessionId === 'string' ? sessionId : typeof sessionId === 'number' ? String(sessionId) : null;
      const file = this.fileFor(fileKey);
      const steps = this.lineSteps(slots);
      if (this.queue.idle && steps === AT_ONCE) return this.writeLine(file, record, slots);
      this.queue.add(this.lineJob(file, record, slots, steps === AT_ONCE ? [] : steps));
      this.trackPending();
      return true;
    } catch (err) {
      this.reportRecordFailure(err);
      return false;
    }
  }

  /**
   * The work a line needs before it is encoded and written: serializing its
   * messages not serialized yet (one step each; for a compact file their
   * content ids too). `AT_ONCE`: none, and the line is small enough to be
   * built and written at once (a small turn's, found without allocating).
   * An empty list: a large line, built and written in slices of its own.
   */
  private lineSteps(slots: RawSlots): LineStep[] | typeof AT_ONCE {
    const lists = slots.messageLists;
    if (lists.length === 0) return AT_ONCE; // every slot is text already: nothing to serialize, nothing large
    const compact = this.compactFiles !== undefined;
    // What the line's steps would have to do: messages not serialized yet (for a compact file, without a content id).
    const pending = (piece: MessagePiece) => !piece.serialized || (compact && piece.id === undefined);
    let newChars = 0;
    let lineChars = 0;
    for (const list of lists) {
      for (const piece of list.pieces) {
        lineChars += piece.chars;
        if (pending(piece)) newChars += piece.chars;
      }
    }
    const large = lineChars > QUEUE_LINE_CHARS;
    const steps: LineStep[] = [];
    // Counted with repeats first (a message in four arrays counts four times): a bound that settles most turns cheaply.
    if (newChars > WRITE_AT_ONCE_CHARS || large) {
      // Only pending pieces are remembered: a long session's line holds thousands of pieces, a few of them new.
      const seen = new Set<object>();
      let unique = 0;
      for (const list of lists) {
        for (const piece of list.pieces) {
          if (!pending(piece) || seen.has(piece)) continue;
          seen.add(piece);
          unique += piece.chars;
          // A message of megabytes is serialized a slice at a time (without redaction, which masks whole values).
          const sliced = piece.chars >= SLICED_MESSAGE_CHARS && piece.chars <= SLICED_MESSAGE_MAX_CHARS;
          if (!piece.serialized && sliced && list.cache.replacer === undefined) steps.push(() => serializeInSlices(piece));
          steps.push(compact ? () => contentIdInSlices(piece, list) as Generator<'step', unknown, undefined> : () => { piece.bytes(list.cache.replacer); });
        }
      }
      if (unique <= WRITE_AT_ONCE_CHARS && !large) steps.length = 0;
    }
    // A large line is queued even with no step left: it is built and written in slices of its own, off the turn's end.
    return steps.length === 0 && !large ? AT_ONCE : steps;
  }

  /** The queued job of one line: its steps, each a pause, then encoding and writing it. */
  private lineJob(file: string, record: Record<string, unknown>, slots: RawSlots, steps: readonly LineStep[]): SlicedJob {
    const sink = this;
    return {
      *work(mode: WriteMode) {
        for (const step of steps) {
          const more = step();
          if (more) yield* more;
          yield 'step';
        }
        yield 'alone';
        return yield* sink.lineWork(file, record, slots, mode);
      },
    };
  }

  /**
   * Encodes and writes one line at once; the sink's failures are reported,
   * never thrown. The queue is idle, so no line is on the thread pool and
   * the scratch buffer and the arena are free.
   */
  private writeLine(file: string, record: Record<string, unknown>, slots: RawSlots): boolean {
    // A line of a few buffers in the original format (a small turn's) needs none of lineWork's pauses:
    // written straight, without a generator (a fair part of a small turn's bookkeeping).
    if (this.compactFiles || chunksBeforeJoining(slots.messageLists) > MAX_LINE_CHUNKS) return this.finishNow(file, record, slots);
    try {
      const encoded = encodeLine(record, slots, { scratch: this.scratch });
      // More buffers than counted before joining only with text of hundreds of megabytes: merged as lineWork does.
      const line = encoded.chunks.length <= MAX_LINE_CHUNKS ? encoded : runToEnd(fewerChunks(encoded, MAX_LINE_CHUNKS, this.arena));
      return this.writer.appendLine(file, line);
    } catch (err) {
      this.reportRecordFailure(err);
      return false;
    }
  }

  /** lineWork run to its end without pausing. */
  private finishNow(file: string, record: Record<string, unknown>, slots: RawSlots): boolean {
    return runToEnd(this.lineWork(file, record, slots, { background: false })) === true;
  }

  /**
   * Encodes and writes one line: its buffers brought down to what one
   * writev takes a slice at a time, and with `mode.background` a large
   * line's write on the thread pool (the promise of its end is returned).
   * Failures are reported, never thrown.
   */
  private *lineWork(file: string, record: Record<string, unknown>, slots: RawSlots, mode: WriteMode): Generator<Pause, boolean | Promise<boolean>, undefined> {
    try {
      const compactFiles = this.compactFiles;
      const compact = compactFiles ? encodeCompact(record, slots, compactFiles.stored(file), DEFAULT_MAX_LINE_BYTES) : undefined;
      // More messages than one writev takes: lay them side by side first (once per message and session), not merged per line.
      if (!compact && chunksBeforeJoining(slots.messageLists) > MAX_LINE_CHUNKS) yield* this.slabs.place(slots.messageLists, COPY_BYTES_PER_STEP);
      // Encoded as a list of buffers: a record too large for one string is cut, never lost.
      // The reused scratch only for a line written before the next is encoded: never one that may go to the pool.
      const scratch = mode.background || this.queue.writeInFlight ? undefined : this.scratch;
      const encoded = compact?.line ?? encodeLine(record, slots, { scratch });
      // The arena is reused only when no earlier line may still be written from it.
      const line = yield* fewerChunks(encoded, MAX_LINE_CHUNKS, this.queue.writeInFlight ? undefined : this.arena);
      // Encoding and writing a line just under the pool's threshold are each a fair part of a slice: apart if need be.
      yield 'alone';
      const written = mode.background && line.byteLength >= WRITE_IN_BACKGROUND_BYTES
        ? this.writer.appendLineInBackground(file, line)
        : this.writer.appendLine(file, line);
      if (!compact || !compactFiles) return written;
      const stored = (ok: boolean) => {
        if (ok) compactFiles.wrote(file, compact.ids);
        return ok;
      };
      return typeof written === 'boolean' ? stored(written) : written.then(stored);
    } catch (err) {
      this.reportRecordFailure(err);
      return false;
    }
  }

  private reportRecordFailure(err: unknown): void {
    this.reporter.fail(`record:${errorText(err)}`, () => `moa-otel: could not build an MoA record (the turn went on): ${firstLine(errorText(err))}`);
  }
}

/** A generator's result, its pauses ignored. */
function runToEnd<T>(work: Generator<unknown, T, undefined>): T {
  for (;;) {
    const next = work.next();
    if (next.done) return next.value;
  }
}

/** What both faces of the JSONL sink show of it. */
abstract class JsonlSinkFace {
  protected readonly sink: TurnFileSink;

  constructor(options: JsonlTurnExporterOptions = {}) {
    this.sink = new TurnFileSink(options);
  }

  get stats(): JsonlExporterStats {
    return this.sink.stats;
  }

  /** The content policy this sink masks with (the pipeline's, when setup built it). */
  get policy(): ContentPolicy {
    return this.sink.policy;
  }

  /** Iterations currently waiting for their root span. */
  get pendingIterations(): number {
    return this.sink.pendingIterations;
  }

  /** The file a session's lines go to now. */
  fileFor(sessionId: string | null | undefined): string {
    return this.sink.fileFor(sessionId);
  }

  /** Whether the line of every ended turn is written already (`forceFlush()` would resolve at once). */
  get idle(): boolean {
    return this.sink.idle;
  }

  /** Resolves when the lines of every ended turn are written (large ones are finished across ticks). */
  forceFlush(): Promise<void> {
    return this.sink.flushed();
  }

  /** Writes what is still open as partial records, then stops. */
  shutdown(): Promise<void> {
    const writing = this.sink.writeInFlight;
    if (!writing) {
      this.sink.shutdown();
      return Promise.resolve();
    }
    // A line on the thread pool is let finish first, so that the lines still queued go after it.
    return writing.then(() => { this.sink.shutdown(); });
  }
}

/**
 * The JSONL sink as a span processor. Add it to any tracer provider
 * (`spanProcessors: [new JsonlSpanProcessor(...)]`, OpenTelemetry JS 2.x or
 * 3.x) or let `createMoaSpanProcessors()` / `setupMoaTracing()` do it.
 */
export class JsonlSpanProcessor extends JsonlSinkFace implements SpanProcessorLike {

  onStart(span: Span, _parentContext: Context): void {
    try {
      if (!this.sink.stopped) this.sink.started(span);
    } catch (err) {
      this.sink.skipped(err);
    }
  }

  onEnd(span: FinishedSpan): void {
    try {
      this.sink.ended(span);
    } catch (err) {
      this.sink.skipped(err);
    }
  }
}

/**
 * The JSONL sink as a span exporter, for a provider's own simple processor.
 * It only sees ended spans: prefer `JsonlSpanProcessor`, which also gets the
 * exact messages as sent.
 */
export class JsonlTurnExporter extends JsonlSinkFace implements SpanExporterLike {
  export(spans: FinishedSpan[], resultCallback: (result: ExportResultLike) => void): void {
    if (this.sink.stopped) {
      for (const span of spans) this.sink.ended(span);
      resultCallback({ code: EXPORT_FAILED, error: new Error('JsonlTurnExporter is shut down') });
      return;
    }
    for (const span of spans) {
      try {
        this.sink.ended(span);
      } catch (err) {
        // Never let one odd span break the pipeline for the others.
        this.sink.skipped(err);
      }
    }
    resultCallback({ code: EXPORT_SUCCESS });
  }
}
