/**
 * Turn records rebuilt from OTLP JSON trace lines: the inverse of replay.
 *
 * Each line is one `ExportTraceServiceRequest`. The spans of one MoA turn
 * (a root `invoke_workflow moa` and its call spans) may be spread over
 * several lines and batches, in any order, between spans of other programs
 * (skipped and counted). A turn is written as soon as its root and every call
 * the root announces (`moa.reference.count` references and the aggregator)
 * have arrived; a root whose calls are still missing waits `WAIT_LINES` more
 * lines. Anything still incomplete then — or at the end of the input, or
 * pushed out by the memory bound — is written as a partial record
 * (`partial: true`, `partial_reason`) and reported, never dropped.
 *
 * The record is built by the JSONL writer's own `buildTurnRecord` from the
 * decoded spans, so a turn whose spans carried full content reads back with
 * the same keys, in the same order, as the line the writer wrote for it —
 * as the value parsing that line would give, without writing the line
 * (`spans-record.ts`).
 */
import { epochSeconds, isMoaCall, isMoaRoot } from '../export/turn-record.js';
import { GEN_AI_INPUT_MESSAGES, MOA_ITERATION, MOA_REFERENCE_COUNT, MOA_REFERENCE_INDEX, MOA_ROLE, ROLE_AGGREGATOR, ROLE_REFERENCE } from '../trace/attributes.js';
import type { TurnRecord } from '../record/schema.js';
import type { FinishedSpan } from '../trace/span-data.js';
import { clip } from './format.js';
import type { DecoderContext, InputRecord, LineDecoder } from './inputs.js';
import type { SplitLine } from './line-splitter.js';
import { asksForTools } from './insights/user-turns.js';
import { cutBytes, cutIndex, cutInputMessageValues } from './otlp-content-skip.js';
import { OtlpRequestError, spansOfRequest, utf8OfLatin1 } from './otlp-json-spans.js';
import type { ProblemKind, SkipContent } from './reader.js';
import { RECORD_ATTRIBUTES } from './record-attributes.js';
import { recordOfValue, type RecordValueResult } from './record-value.js';
import { recordValueOfSpans, SlotTooDeepError } from './spans-record.js';

/** Lines a turn whose root arrived waits for its missing call spans. */
export const WAIT_LINES = 64;

export interface SpanTurnLimits {
  /** Turns held open (waiting for spans) at most; the oldest is written as partial beyond it. */
  maxOpenTurns?: number;
  /** Bytes of string attributes held in open turns at most (content dominates a span's size). */
  maxHeldBytes?: number;
}

const DEFAULT_MAX_OPEN_TURNS = 1000;
const DEFAULT_MAX_HELD_BYTES = 128 * 1024 * 1024;
const BOM = '\uFEFF';

interface OpenTurn {
  traceId: string;
  rootSpanId: string;
  root?: FinishedSpan;
  calls: Map<string, FinishedSpan>;
  /** Line on which the root arrived. */
  rootLine?: number;
  bytes: number;
}

export interface SpanTurnCounts {
  turns: number;
  partialTurns: number;
  /** Spans of other programs (not a MoA root or call). */
  skippedSpans: number;
}

export class SpanTurnDecoder implements LineDecoder {
  private readonly open = new Map<string, OpenTurn>();
  /** 'turns': the aggregator's message list of a span, as the JSON string it was on its line (see `spansWithoutInputMessages`). */
  private readonly heldLists = new WeakMap<FinishedSpan, Buffer>();
  private heldBytes = 0;
  /** 'turns': whether the last record of each session asked for tools (see `withTurnEvidence`). */
  private readonly askedForTools = new Map<string | null, boolean>();
  private line = 0;
  private lastEndOffset = 0;
  readonly counts: SpanTurnCounts = { turns: 0, partialTurns: 0, skippedSpans: 0 };
  private readonly maxOpenTurns: number;
  private readonly maxHeldBytes: number;

  constructor(private readonly context: DecoderContext, limits: SpanTurnLimits = {}) {
    this.maxOpenTurns = limits.maxOpenTurns ?? DEFAULT_MAX_OPEN_TURNS;
    this.maxHeldBytes = limits.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES;
  }

  decode(split: SplitLine, unterminated: boolean): readonly InputRecord[] {
    this.line += 1;
    this.lastEndOffset = split.endOffset;
    const out: InputRecord[] = [];
    const spans = this.spansOfLine(split, unterminated);
    const touched = new Set<OpenTurn>();
    for (const span of spans) {
      const turn = this.place(span);
      if (turn) touched.add(turn);
    }
    for (const turn of touched) if (isComplete(turn)) this.emit(turn, null, out);
    // Roots that waited long enough for their calls.
    for (const turn of this.open.values()) {
      if (turn.rootLine !== undefined && this.line - turn.rootLine >= WAIT_LINES) this.emit(turn, missingWhat(turn), out);
    }
    // The memory bound: the oldest open turns go first (a Map keeps insertion order).
    for (const turn of this.open.values()) {
      if (this.open.size <= this.maxOpenTurns && this.heldBytes <= this.maxHeldBytes) break;
      this.emit(turn, `${missingWhat(turn)} (more turns open than the reader holds)`, out);
    }
    return out;
  }

  finish(): readonly InputRecord[] {
    const out: InputRecord[] = [];
    for (const turn of [...this.open.values()]) this.emit(turn, missingWhat(turn), out);
    return out;
  }

  /** One-line summary of what was read (for `validate`). */
  note(): string | null {
    const parts: string[] = [];
    if (this.counts.skippedSpans > 0) parts.push(`${this.counts.skippedSpans} spans of other programs skipped`);
    if (this.counts.partialTurns > 0) parts.push(`${this.counts.partialTurns} turns rebuilt as partial`);
    return parts.length > 0 ? parts.join(', ') : null;
  }

  private spansOfLine(split: SplitLine, unterminated: boolean): FinishedSpan[] {
    if (split.tooLongBytes !== undefined) {
      this.report('too_long', `line of ${split.tooLongBytes} bytes is longer than a reader can hold; skipped`);
      return [];
    }
    const mode = this.context.skipContent;
    if (mode !== undefined && mode !== false) {
      const spans = this.spansWithoutInputMessages(split.bytes, mode);
      if (spans !== null) return spans;
    }
    let text = split.bytes.toString('utf8');
    if (this.line === 1 && text.startsWith(BOM)) text = text.slice(1);
    if (text.trim() === '') return [];
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.report(unterminated ? 'torn' : 'json', unterminated ? `torn last line (incomplete write, ${split.bytes.length} bytes): ${why}` : `invalid JSON: ${why}`);
      return [];
    }
    let spans: FinishedSpan[];
    try {
      spans = spansOfRequest(request);
    } catch (err) {
      if (!(err instanceof OtlpRequestError)) throw err;
      this.report('schema', err.message);
      return [];
    }
    if (mode !== undefined && mode !== false) for (const span of spans) if (dropsInputMessages(mode, span)) leaveOutInputMessages(span);
    return spans;
  }

  /**
   * The spans of a line decoded without its input message values (a
   * command that reads none, or only the aggregator's: those are decoded
   * alone). Null when the line is to be read whole instead: it does not
   * parse so (its problem is then reported from the whole line, word for
   * word), or, under 'checked', a value is not a valid JSON string.
   */
  private spansWithoutInputMessages(bytes: Buffer, mode: Exclude<SkipContent, false>): FinishedSpan[] | null {
    const cut = cutInputMessageValues(bytes, mode === 'checked');
    if (cut === null) return null;
    let text = cut.text;
    if (this.line === 1 && text.startsWith(BOM)) text = text.slice(1);
    if (text.trim() === '') return [];
    let spans: FinishedSpan[];
    try {
      spans = spansOfRequest(JSON.parse(text), cut.latin1 ? utf8OfLatin1 : undefined, RECORD_ATTRIBUTES);
    } catch {
      return null;
    }
    let rootsHere: Map<string, FinishedSpan> | undefined;
    for (const span of spans) {
      const index = cutIndex(span.attributes[GEN_AI_INPUT_MESSAGES]);
      if (dropsInputMessages(mode, span)) {
        leaveOutInputMessages(span);
      } else if (index >= 0) {
        // 'turns' and the aggregator: the list matters only to a record without `iteration` (which its root tells),
        // after one that asked for tools (which only the end of the turn tells). A root already seen (on this line,
        // most often) that numbers its iteration rules it out now; otherwise the list's bytes are kept, unchecked like
        // every list this mode cuts, and decoded at the end of the turn, if at all.
        rootsHere ??= rootsOf(spans);
        const root = this.rootOf(span, rootsHere);
        if (root !== undefined && typeof root.attributes[MOA_ITERATION] === 'number') {
          leaveOutInputMessages(span);
          continue;
        }
        leaveOutInputMessages(span);
        this.heldLists.set(span, cutBytes(bytes, cut, index));
      }
    }
    return spans;
  }

  /** The root of a call span, from this line's roots or an open turn's, if it arrived. */
  private rootOf(call: FinishedSpan, rootsHere: ReadonlyMap<string, FinishedSpan>): FinishedSpan | undefined {
    const parent = call.parentSpanContext;
    if (parent === undefined) return undefined;
    const key = `${call.spanContext().traceId}:${parent.spanId}`;
    return rootsHere.get(key) ?? this.open.get(key)?.root;
  }

  /** Files a span under its turn; spans of other programs are counted. */
  private place(span: FinishedSpan): OpenTurn | undefined {
    const own = span.spanContext();
    if (isMoaRoot(span)) {
      const turn = this.turn(own.traceId, own.spanId);
      if (!turn.root) this.hold(turn, span);
      turn.root = span;
      turn.rootLine ??= this.line;
      return turn;
    }
    if (isMoaCall(span) && span.parentSpanContext) {
      const turn = this.turn(own.traceId, span.parentSpanContext.spanId);
      // A span exported twice (a retried batch) counts once.
      if (!turn.calls.has(own.spanId)) this.hold(turn, span);
      turn.calls.set(own.spanId, span);
      return turn;
    }
    this.counts.skippedSpans += 1;
    return undefined;
  }

  private turn(traceId: string, rootSpanId: string): OpenTurn {
    const key = `${traceId}:${rootSpanId}`;
    let turn = this.open.get(key);
    if (!turn) {
      turn = { traceId, rootSpanId, calls: new Map(), bytes: 0 };
      this.open.set(key, turn);
    }
    return turn;
  }

  private hold(turn: OpenTurn, span: FinishedSpan): void {
    const bytes = stringBytes(span) + (this.heldLists.get(span)?.length ?? 0);
    turn.bytes += bytes;
    this.heldBytes += bytes;
  }

  private emit(turn: OpenTurn, missing: string | null, out: InputRecord[]): void {
    this.open.delete(`${turn.traceId}:${turn.rootSpanId}`);
    this.heldBytes -= turn.bytes;
    const calls = [...turn.calls.values()].sort((a, b) => startOf(a) - startOf(b));
    const endMs = turn.root ? epochSeconds(turn.root.endTime) * 1000 : latestEndMs(calls);
    const iteration = { root: turn.root, rootEnded: turn.root !== undefined, calls: calls.map((span) => ({ span, ended: true })), firstSeenAt: 0 };
    let parsed = recordOfSpans(iteration, endMs, missing);
    if (this.context.skipContent === 'turns' && parsed.ok) parsed = this.withTurnEvidence(parsed.record, calls, iteration, endMs, missing);
    if (!parsed.ok) {
      this.report('schema', `turn ${turn.traceId} rebuilt from spans is not a valid record: ${parsed.message}`);
      return;
    }
    this.counts.turns += 1;
    if (missing !== null) {
      this.counts.partialTurns += 1;
      this.report('partial', `turn ${turn.traceId}/${turn.rootSpanId}: ${missing}; rebuilt as a partial record from ${turn.calls.size + (turn.root ? 1 : 0)} spans`);
    }
    out.push({
      record: parsed.record, line: this.line, endOffset: this.lastEndOffset, file: this.context.file, format: 'otlp-json',
      ...(missing !== null ? { partial: true } : {}),
    });
  }

  /**
   * 'turns': a record without `iteration` that follows one of its session
   * asking for tools is rebuilt with its aggregator's messages, which tell
   * whether the loop went on (`insights/user-turns.ts`); any other record
   * goes without them, as the JSONL reader reads it (`reader.ts`).
   */
  private withTurnEvidence(
    record: TurnRecord, calls: readonly FinishedSpan[], iteration: Parameters<typeof recordOfSpans>[0], endMs: number, missing: string | null,
  ): RecordValueResult {
    let read: RecordValueResult = { ok: true, record };
    const session = record.session_id;
    if (typeof record.iteration !== 'number' && this.askedForTools.get(session) === true) {
      let restored = false;
      for (const call of calls) restored = this.restoreList(call) || restored;
      if (restored) read = recordOfSpans(iteration, endMs, missing);
    }
    for (const call of calls) this.heldLists.delete(call);
    if (read.ok) this.askedForTools.set(session, asksForTools(read.record.aggregator));
    return read;
  }

  /**
   * A held message list back on its span, decoded as the line's parse would
   * have decoded it; whether there was one. A list that is no valid JSON
   * string stays out: the record is read without it, as the JSONL reader
   * reads a record whose list it cannot parse.
   */
  private restoreList(span: FinishedSpan): boolean {
    const list = this.heldLists.get(span);
    if (list === undefined) return false;
    try {
      (span.attributes as Record<string, unknown>)[GEN_AI_INPUT_MESSAGES] = JSON.parse(list.toString('utf8')) as string;
      return true;
    } catch {
      return false;
    }
  }

  private report(kind: ProblemKind, message: string): void {
    this.context.onProblem?.({ file: this.context.file, line: this.line, kind, message: clip(message.replace(/\s+/g, ' '), 240) });
  }
}

/** The MoA roots among spans, by the key their turn is filed under. */
function rootsOf(spans: readonly FinishedSpan[]): Map<string, FinishedSpan> {
  const roots = new Map<string, FinishedSpan>();
  for (const span of spans) {
    if (!isMoaRoot(span)) continue;
    const own = span.spanContext();
    roots.set(`${own.traceId}:${own.spanId}`, span);
  }
  return roots;
}

/**
 * Whether a command leaves a span's message list out: it never reads them
 * (`true`), only checks them (`'checked'`: a list is a string in a span, and
 * a string the line parsed with is no problem of the record, whatever it
 * holds), or reads only the aggregator's (`'turns'`: a rebuilt record
 * without `iteration` is judged by them, see reader.ts).
 */
function dropsInputMessages(mode: SkipContent | undefined, span: FinishedSpan): boolean {
  return mode === true || mode === 'checked' || (mode === 'turns' && span.attributes[MOA_ROLE] !== ROLE_AGGREGATOR);
}

/** Left out by making it undefined, as if absent: `delete` would turn every span's attributes into a slow dictionary. */
function leaveOutInputMessages(span: FinishedSpan): void {
  if (span.attributes[GEN_AI_INPUT_MESSAGES] !== undefined) span.attributes[GEN_AI_INPUT_MESSAGES] = undefined;
}

/** The record of a turn's spans, checked as a parsed line is; `missing` marks it partial. */
function recordOfSpans(iteration: Parameters<typeof recordValueOfSpans>[0], endMs: number, missing: string | null): RecordValueResult {
  let value: Record<string, unknown>;
  try {
    value = recordValueOfSpans(iteration, endMs);
  } catch (err) {
    if (err instanceof SlotTooDeepError || err instanceof SyntaxError) return { ok: false, message: err.message };
    // A span's attributes in a shape moa-otel never writes (a GenAI message list holding null, `parts` that is
    // not a list): this turn is reported and left out, the rest of the file is still read.
    if (err instanceof TypeError) return { ok: false, message: `its attributes are not in the form moa-otel writes (${err.message})` };
    throw err;
  }
  if (missing !== null) {
    value.partial = true;
    value.partial_reason = missing;
  }
  return recordOfValue(value);
}

/** The root and every call it announces: its references by index, and the aggregator. */
function isComplete(turn: OpenTurn): boolean {
  if (!turn.root) return false;
  const expected = turn.root.attributes[MOA_REFERENCE_COUNT];
  if (typeof expected !== 'number') return false;
  const indices = new Set<number>();
  let aggregator = false;
  for (const call of turn.calls.values()) {
    const role = call.attributes[MOA_ROLE];
    if (role === ROLE_AGGREGATOR) aggregator = true;
    const index = call.attributes[MOA_REFERENCE_INDEX];
    if (role === ROLE_REFERENCE && typeof index === 'number') indices.add(index);
  }
  return aggregator && indices.size >= expected;
}

function missingWhat(turn: OpenTurn): string {
  if (!turn.root) return 'root span missing';
  const expected = turn.root.attributes[MOA_REFERENCE_COUNT];
  const references = [...turn.calls.values()].filter((c) => c.attributes[MOA_ROLE] === ROLE_REFERENCE).length;
  const aggregator = [...turn.calls.values()].some((c) => c.attributes[MOA_ROLE] === ROLE_AGGREGATOR);
  const parts: string[] = [];
  if (typeof expected === 'number' && references < expected) parts.push(`${expected - references} of ${expected} reference spans missing`);
  if (!aggregator) parts.push('aggregator span missing');
  return parts.length > 0 ? parts.join(', ') : 'call spans missing';
}

/** The last call's end; a loop, not a spread: a turn may hold more calls than a call takes arguments. */
function latestEndMs(calls: readonly FinishedSpan[]): number {
  let latest = 0;
  for (const call of calls) latest = Math.max(latest, epochSeconds(call.endTime) * 1000);
  return latest;
}

function startOf(span: FinishedSpan): number {
  return span.startTime[0] * 1e9 + span.startTime[1];
}

/** UTF-16 length of a span's string attributes: the part of its size that grows with content. */
function stringBytes(span: FinishedSpan): number {
  let total = 256;
  const attributes = span.attributes;
  // for-in, not Object.values: no array per span.
  for (const key in attributes) {
    const value = attributes[key];
    if (typeof value === 'string') total += value.length;
  }
  return total;
}

export function spanTurnDecoder(context: DecoderContext): LineDecoder {
  return new SpanTurnDecoder(context);
}
