/**
 * The JSON of a session's short conversations, what its calls share
 * serialized once.
 *
 * The calls of one MoA turn mostly send the same conversation: every
 * reference the same array (or equal copies an agent made per reference),
 * the aggregator the same messages under a system prompt of its own; and
 * the next turn sends them again, with the new ones after them.
 * Serializing each call's array whole serialized that conversation once per
 * call, and native `JSON.stringify` costs a few nanoseconds a character on
 * Node 20: that was most of what capturing a small turn cost. Here messages
 * are serialized in runs (a call's first and last message on their own,
 * the conversation between them together), each remembered with a flat description of what
 * `JSON.stringify` read in it (keys, primitive values, where objects and
 * arrays open and close). Messages of a later call that read as a
 * remembered run take its piece, whose text is exactly what serializing
 * them now would give: the description is taken as each call starts, so a
 * message changed since an earlier call is serialized anew.
 *
 * Only plain data is described (plain objects and arrays, primitives);
 * anything else (`toJSON`, class instances, boxed values, BigInt, deep
 * nesting, a getter that throws) leaves the array to the caller's own way.
 */
import { MessagePiece, type MessageCache, type MessageList } from './message-cache.js';
import { nativeStringify } from './safe-json.js';

/** Nesting this deep is left to the caller (the same bound as `jsonCharsWithin`). */
const MAX_DEPTH = 32;
/**
 * Characters of runs remembered at most (counted as they are made, so an
 * overwritten run still counts): past it, what is remembered is let go and
 * serialized anew when it comes again. Bounds what a session keeps here
 * whatever its conversations look like.
 */
export const REMEMBERED_CHARS = 64 * 1024;

// Structure marks in a description: private objects, so no value of a message can equal one.
const OPEN_OBJECT = Object.freeze({});
const OPEN_ARRAY = Object.freeze({});
const CLOSE = Object.freeze({});

/** Messages serialized together in this turn: what they read as, and their text (one piece). */
interface Run {
  readonly reads: readonly unknown[];
  /** How many messages. */
  readonly count: number;
  readonly piece: MessagePiece;
  /** The run made at the same position before this one, still remembered (first position only). */
  next: Run | undefined;
}

/**
 * Runs remembered at an array's first position: each call of a turn has its
 * own first message there (a reference's system prompt, the aggregator's),
 * the same from turn to turn; keeping one would serialize each of them anew
 * in every turn. Elsewhere the last run made at a position is remembered.
 */
const RUNS_AT_FIRST_POSITION = 8;

export class MessageTexts {
  /**
   * The run last serialized at each position of a call's array. Calls of a
   * turn send their shared messages at the same positions (a reference's or
   * the aggregator's own system prompt first, the conversation after it), so
   * a run is looked for where it started, and next to it. Looking messages
   * up by their text instead would hash every string the first time it is
   * seen, which costs about as much as serializing it.
   */
  private readonly known: Array<Run | undefined> = [];
  /**
   * The description of the array being captured: its first `size` entries.
   * Reused from call to call, and never shortened (an array cut to length 0
   * lets its memory go, and would grow again for every call).
   */
  private readonly reads: unknown[] = [];
  private size = 0;
  /** Where each message's description starts in `reads` (and, after the last, where it ends). */
  private readonly starts: number[] = [];
  /** Characters counted for each message. */
  private readonly chars: number[] = [];
  /** Set while `list` runs. */
  private busy = false;
  /** Characters of the runs made since `known` was last emptied. */
  private rememberedChars = 0;
  /** The cache's `clears` when `known` was last checked against it. */
  private clears: number;

  /**
   * `cache`: what serializes the pieces (its replacer), for the line's
   * encoder; what is remembered here counts against its budgets and is let
   * go when it is.
   */
  constructor(private readonly cache: MessageCache) {
    this.clears = cache.clears;
  }

  /**
   * The messages as pieces whose text is what `JSON.stringify(messages,
   * replacer)` gives for them now, when they are plain data of at most about
   * `budget` characters (counted as `jsonCharsWithin` counts); undefined
   * otherwise. A piece may hold several messages in a row (its text has the
   * commas between them): the list is for a line's encoder, never for the
   * compact format, which stores messages one by one. Never throws.
   */
  list(messages: readonly unknown[], budget: number): MessageList | undefined {
    // A getter read here may start another call of the same turn: that one is serialized the plain way,
    // never with the description this one is taking (the scratch is this call's until it returns).
    if (this.busy) return undefined;
    this.busy = true;
    try {
      if (this.clears !== this.cache.clears) this.forget();
      const count = messages.length;
      if (count === 0 || !this.describeAll(messages, budget)) return undefined;
      const pieces: MessagePiece[] = [];
      // The first message not found in a run of an earlier call (-1: none pending).
      let fresh = -1;
      for (let i = 0; i < count;) {
        const run = this.runAt(i, i, count) ?? this.runAt(i + 1, i, count) ?? (i > 0 ? this.runAt(i - 1, i, count) : undefined);
        if (run === undefined) {
          if (fresh < 0) fresh = i;
          i += 1;
          continue;
        }
        if (fresh >= 0 && !this.serialize(messages, fresh, i, pieces)) return undefined;
        fresh = -1;
        pieces.push(run.piece);
        i += run.count;
      }
      if (fresh >= 0 && !this.serialize(messages, fresh, count, pieces)) return undefined;
      return { pieces, cache: this.cache };
    } catch {
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  /** Describes every message; false when one is not plain data or the budget ran out. */
  private describeAll(messages: readonly unknown[], budget: number): boolean {
    const { starts, chars } = this;
    this.size = 0;
    let left = budget - 1;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i];
      // Only objects: an element's serialization could otherwise depend on its index (a `toJSON(key)`, a replacer).
      if (message === null || typeof message !== 'object' || Array.isArray(message)) return false;
      starts[i] = this.size;
      const before = left;
      // Depth 1: an element of the array, as `jsonCharsWithin` counts it.
      left = this.describe(message, left, 1);
      if (left < 0) return false;
      chars[i] = before - left;
    }
    starts[messages.length] = this.size;
    return true;
  }

  /** The run remembered at `slot` when the messages from `from` on read as it did. */
  private runAt(slot: number, from: number, count: number): Run | undefined {
    for (let run = this.known[slot]; run !== undefined; run = run.next) {
      if (this.readsAs(run, from, count)) return run;
    }
    return undefined;
  }

  /** Whether the messages from `from` on read as `run` did. */
  private readsAs(run: Run, from: number, count: number): boolean {
    if (from + run.count > count) return false;
    const reads = this.reads;
    const start = this.starts[from] as number;
    if ((this.starts[from + run.count] as number) - start !== run.reads.length) return false;
    for (let i = 0; i < run.reads.length; i++) if (run.reads[i] !== reads[start + i]) return false;
    return true;
  }

  /**
   * Serializes messages `from` to `to` (not found in earlier runs) as new
   * runs. An array none of whose messages were found goes in three: its
   * first message and its last on their own (what a call most often has of
   * its own: its system prompt before the conversation, an instruction
   * after it), the conversation between them together.
   */
  private serialize(messages: readonly unknown[], from: number, to: number, pieces: MessagePiece[]): boolean {
    if (from > 0 || to - from < 2) return this.serializeRun(messages, from, to, pieces);
    const last = to === messages.length && to > 2 ? to - 1 : to;
    return this.serializeRun(messages, 0, 1, pieces) && this.serializeRun(messages, 1, last, pieces)
      && (last === to || this.serializeRun(messages, last, to, pieces));
  }

  private serializeRun(messages: readonly unknown[], from: number, to: number, pieces: MessagePiece[]): boolean {
    const replacer = this.cache.replacer;
    const one = to - from === 1;
    const text = nativeStringify(one ? messages[from] : messages.slice(from, to), replacer);
    if (typeof text !== 'string') return false;
    let chars = 0;
    for (let i = from; i < to; i++) chars += this.chars[i] as number;
    // Several messages: the piece is the array's elements (a piece's text is joined to the next by a comma).
    const piece = one ? new MessagePiece(undefined, chars, text) : MessagePiece.ofElements(text, chars);
    if (this.rememberedChars + chars > REMEMBERED_CHARS) this.forget();
    this.rememberedChars += chars;
    this.cache.textsChars = this.rememberedChars;
    const run: Run = { reads: this.reads.slice(this.starts[from], this.starts[to]), count: to - from, piece, next: from === 0 ? this.known[0] : undefined };
    this.known[from] = run;
    // The older runs at the first position beyond what is kept are let go.
    let kept = run;
    for (let n = 1; n < RUNS_AT_FIRST_POSITION && kept.next !== undefined; n++) kept = kept.next;
    kept.next = undefined;
    pieces.push(piece);
    return true;
  }

  private forget(): void {
    this.known.length = 0;
    this.rememberedChars = 0;
    this.cache.textsChars = 0;
    this.clears = this.cache.clears;
  }

  /**
   * Adds what serializing `value` reads to the description and returns the
   * budget left: negative when it ran out or `value` is not plain data.
   */
  private describe(value: unknown, budget: number, depth: number): number {
    if (typeof value === 'string') {
      this.reads[this.size++] = value;
      return budget - 1 - value.length;
    }
    if (typeof value === 'bigint') return -1;
    // Numbers, booleans, null; undefined, functions and symbols, which serializing leaves out (or writes as null in an array).
    if (value === null || typeof value !== 'object') {
      this.reads[this.size++] = value;
      return budget - 1;
    }
    if (depth >= MAX_DEPTH || typeof (value as { toJSON?: unknown }).toJSON === 'function') return -1;
    let left = budget - 1;
    if (Array.isArray(value)) {
      this.reads[this.size++] = OPEN_ARRAY;
      for (let i = 0; i < value.length && left >= 0; i++) left = this.describe(value[i], left, depth + 1);
      this.reads[this.size++] = CLOSE;
      return left;
    }
    const prototype = Object.getPrototypeOf(value) as unknown;
    // A class instance or a boxed value may serialize otherwise than its own keys read: not described.
    if (prototype !== Object.prototype && prototype !== null) return -1;
    this.reads[this.size++] = OPEN_OBJECT;
    for (const key in value) {
      // Own enumerable keys only, in the order JSON.stringify reads them.
      if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
      this.reads[this.size++] = key;
      left = this.describe((value as Record<string, unknown>)[key], left - key.length, depth + 1);
      if (left < 0) return left;
    }
    this.reads[this.size++] = CLOSE;
    return left;
  }
}
