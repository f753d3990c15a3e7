/**
 * Each message of a session serialized once.
 *
 * A conversation grows by appending, and the same messages (the same
 * objects, or equal copies an agent made per reference) reach every
 * reference and every later turn. Serializing and UTF-8-encoding the whole
 * conversation again for each of them is what made a long session cost more
 * than the file is worth. A `MessageCache` (one per session and redaction)
 * keeps, for each message seen, a snapshot of what `JSON.stringify` reads in
 * it (`json-snapshot.ts`) and, once serialized, its UTF-8 bytes; a line is
 * then built from those pieces.
 *
 * A message is looked up by identity, then by content: equal messages share
 * their longer strings (a spread copy keeps the same string values), so the
 * first long string is a cheap key, confirmed by comparing the structure.
 * A cached message mutated since is noticed by that comparison (a walk over
 * keys and values, no serialization) and snapshotted anew.
 *
 * Memory is bounded per session (`SESSION_BUDGET_CHARS`) and across sessions
 * (`TOTAL_BUDGET_CHARS`); a session idle for `IDLE_MS` is released.
 */
import { nativeStringify, safeStringify, type JsonReplacer } from './safe-json.js';
import { anchorOf, readsAsSnapshot, snapshotJson } from './json-snapshot.js';
import { utf8Scratch } from './utf8-scratch.js';

/** Characters of message text one session keeps snapshots and bytes of. */
export const SESSION_BUDGET_CHARS = 16 * 1024 * 1024;
/** Characters kept across all sessions of one owner; least recently used sessions go first. */
export const TOTAL_BUDGET_CHARS = 256 * 1024 * 1024;
/** A session unused this long is released. */
export const IDLE_MS = 5 * 60 * 1000;

/** Texts this long are encoded in place after the comma (shorter ones are cheaper joined, from the buffer pool). */
const ENCODE_IN_PLACE_CHARS = 2048;

/** One message: its snapshot, and its serialization once made. */
export class MessagePiece {
  /** `,` then the message's JSON, as UTF-8 (the comma joins it to the previous element; skip it for the first). */
  private encoded: Buffer | undefined;
  private text: string | undefined;
  /** Set by whoever needs a content id (the compact format); cached with the piece. */
  id: string | undefined;

  /** Set when `text` is a JSON array whose elements are the piece (brackets not cut off until needed). */
  private bracketed = false;
  /** Set once a line was given the piece from its text (`writeText`) without its bytes being kept. */
  private writtenFromText = false;

  constructor(
    /** What to serialize; undefined when the message was serialized at once (`json` given). */
    readonly copy: unknown,
    /** Characters of text in it: the estimated cost of serializing it. */
    readonly chars: number,
    json?: string,
    /** The key of its first long string (`anchorKey`), under which equal messages find it. */
    readonly anchor?: string,
  ) {
    if (json !== undefined) this.text = json;
  }

  /**
   * A piece of several messages in a row, from the JSON of an array of them
   * (`message-texts.ts`): its text is the elements with the commas between
   * them. Its bytes are encoded from the array's text as it is, with the
   * `[` written over by the joining comma and the `]` left off: cutting
   * the brackets off the text first would copy it once more.
   */
  static ofElements(arrayJson: string, chars: number): MessagePiece {
    const piece = new MessagePiece(undefined, chars, arrayJson);
    piece.bracketed = true;
    return piece;
  }

  get serialized(): boolean {
    return this.encoded !== undefined;
  }

  /**
   * At most how many bytes `writeText` writes (with its comma), when it
   * would write the piece from its text; undefined when it would not: the
   * bytes are kept already, there is no text, or a line had it that way
   * before (a piece met again is worth its bytes: `bytes`).
   */
  textBytesBound(): number | undefined {
    if (this.encoded !== undefined || this.text === undefined || this.writtenFromText) return undefined;
    // UTF-8 takes at most three bytes per UTF-16 unit; the comma one more (a bracketed text has two units spare).
    return 3 * this.text.length + 1;
  }

  /**
   * Writes `,` + the JSON into `buffer` at `at` (without the comma when
   * `first`: the caller's `[` is the byte before `at`) straight from the
   * text, and returns the bytes written. For a line that is written before
   * the next is encoded (a small turn's): a piece first met there costs one
   * encoding into the line, not one into bytes of its own and a copy.
   * Those bytes are not kept; a later line that needs the piece again gets
   * them kept (`bytes`). Only when `textBytesBound` said so.
   */
  writeText(buffer: Buffer, at: number, first: boolean): number {
    this.writtenFromText = true;
    const text = this.text as string;
    if (this.bracketed) {
      // `[` + the elements + `]`: the `[` lands on the comma's place (or on the caller's `[`), the `]` is left off.
      const start = first ? at - 1 : at;
      const written = buffer.write(text, start, 'utf8');
      if (!first) buffer[start] = 0x2c; // ,
      return written - (first ? 2 : 1);
    }
    if (first) return buffer.write(text, at, 'utf8');
    buffer[at] = 0x2c; // ,
    return 1 + buffer.write(text, at + 1, 'utf8');
  }

  /** The message's JSON text. */
  json(replacer: JsonReplacer | undefined): string {
    if (this.bracketed) {
      this.bracketed = false;
      this.text = (this.text as string).slice(1, -1);
    }
    if (this.text === undefined) {
      // A snapshot nests at most MAX_SNAPSHOT_DEPTH levels, far within what readers walk (and masking keeps
      // the structure): only a throw needs the careful serializer, no depth scan of the text.
      const text = nativeStringify(this.copy, replacer);
      // An element of an array is one level deeper than the array: the same depth rule as serializing the array.
      this.text = typeof text === 'string' ? text : safeStringify(this.copy, replacer, { outerDepth: 1 });
    }
    return this.text;
  }

  /**
   * Takes `,` + JSON as UTF-8 made elsewhere from `copy` (the sink makes a
   * large message's a slice at a time, off the event loop's long blocks).
   */
  adoptBytes(encoded: Buffer): void {
    this.encoded = encoded;
    this.dropText();
  }

  /** `,` + JSON as UTF-8; serialized on first use. */
  bytes(replacer: JsonReplacer | undefined): Buffer {
    if (this.encoded === undefined && this.bracketed) {
      // `,` + the elements: the text without its brackets (ASCII, so no pair is cut), encoded in one walk
      // over it (measuring it first with Buffer.byteLength cost as much as encoding it).
      this.encoded = utf8Scratch.encode((this.text as string).slice(1, -1), 0x2c);
      // The text stays (there is no copy to make it from again); the slower ways cut it when they need it.
    }
    if (this.encoded === undefined) {
      const json = this.json(replacer);
      if (json.length < ENCODE_IN_PLACE_CHARS) {
        this.encoded = Buffer.from(`,${json}`, 'utf8');
      } else {
        // A long text is not copied into a joined string first: encoded after the comma, in one walk over it.
        this.encoded = utf8Scratch.encode(json, 0x2c); // ,
      }
      // The bytes are what is kept: the text is only needed again on a rare masking path.
      this.dropText();
    }
    return this.encoded;
  }

  /** Lets the text go once the bytes are kept: `json` makes it again from the copy, if there is one. */
  private dropText(): void {
    // A message serialized at once (a cycle, a BigInt) has no copy to make it from: its text is all there is.
    if (this.copy !== undefined) this.text = undefined;
  }
}

/** The messages of one call, in order, and the cache that serializes them. */
export interface MessageList {
  readonly pieces: readonly MessagePiece[];
  readonly cache: MessageCache;
}

/** Anchors longer than this are looked up under a short key made from them, not the whole text. */
const ANCHOR_KEY_ABOVE_CHARS = 256;

/**
 * The key a message is found under by content. A Map hashes its string keys
 * over their whole length (up to 16 Ki characters, and every longer one hashes
 * by its length alone, so they collide): hashing an 8 000-character message
 * cost half as much as serializing it. A long anchor's key is its length and
 * its two ends; a key only nominates a candidate, which is then compared
 * with the message, so keys that collide cost a comparison, never a wrong line.
 */
function anchorKey(anchor: string): string {
  return anchor.length > ANCHOR_KEY_ABOVE_CHARS ? `${anchor.length}:${anchor.slice(0, 32)}${anchor.slice(-32)}` : anchor;
}

/** Messages seen within one generation of a session cache, by identity and by content anchor. */
class Generation {
  /**
   * Weak: the keys are the caller's message objects. An agent that copies its
   * history for every call hands in new objects each turn; holding them here
   * would keep every copy (and its strings) alive, uncounted by the budget.
   */
  readonly byIdentity = new WeakMap<object, MessagePiece>();
  readonly byAnchor = new Map<string, MessagePiece>();
  readonly pieces = new Set<MessagePiece>();
  /** Characters of messages first seen in this generation. */
  newChars = 0;
  /** Characters of messages carried over from the previous generation because they were used again. */
  keptChars = 0;
}

/** A generation ends after this many characters of new messages at least (and at least as many as it kept). */
export const GENERATION_MIN_CHARS = 1024 * 1024;

/**
 * One session's messages. Pieces live in two generations: a message used
 * again is carried into the current one; when the current one has taken in
 * as much new text as it carries (and at least GENERATION_MIN_CHARS), the
 * previous one is dropped. A growing conversation, used every turn, stays;
 * text never seen again leaves after about two generations, so a session of
 * ever-new content does not keep megabytes alive for the garbage collector
 * to walk.
 */
export class MessageCache {
  private young = new Generation();
  private old = new Generation();
  lastUsed = Date.now();
  private texts = 0;
  /** How many times the cache was let go: what is kept beside it is let go too when this changes. */
  clears = 0;
  /**
   * The total of the sessions' caches this one counts in (`SessionMessageCaches`):
   * every change of `heldChars` is added to it as it happens, so the owner never
   * walks its sessions to know the total. Unset for a cache of its own.
   */
  tally: HeldTally | undefined;
  /** `heldChars` as last added to the tally. */
  countedChars = 0;

  constructor(readonly replacer: JsonReplacer | undefined, private readonly budgetChars = SESSION_BUDGET_CHARS) {}

  /**
   * Characters the session's short conversations keep beside the cache
   * (`message-texts.ts` sets it), counted with the rest against the budgets.
   */
  get textsChars(): number {
    return this.texts;
  }

  set textsChars(chars: number) {
    this.texts = chars;
    this.settle();
  }

  /** Characters of the messages held, against the session budget. */
  get heldChars(): number {
    return this.young.newChars + this.young.keptChars + this.old.newChars + this.old.keptChars + this.textsChars;
  }

  /** The pieces of a call's messages, as they read now. */
  list(messages: readonly unknown[]): MessageList {
    this.lastUsed = Date.now();
    const pieces = new Array<MessagePiece>(messages.length);
    for (let i = 0; i < messages.length; i++) pieces[i] = this.piece(messages[i], i);
    this.settle();
    return { pieces, cache: this };
  }

  /** The JSON array of a list, as `safeStringify(messages)` gives it. */
  arrayJson(list: MessageList): string {
    return `[${list.pieces.map((p) => p.json(this.replacer)).join(',')}]`;
  }

  private piece(message: unknown, index: number): MessagePiece {
    const isObject = message !== null && typeof message === 'object';
    if (isObject) {
      const known = this.young.byIdentity.get(message) ?? this.old.byIdentity.get(message);
      // The cached bytes are current only if the message still reads as its snapshot (a walk, no serializing).
      if (known && readsAsSnapshot(message, known.copy)) {
        if (!this.young.byIdentity.has(message)) this.keep(known, message);
        return known;
      }
    }
    // An equal copy of a known message (an agent's per-reference copy): recognised without copying it.
    const found = isObject ? anchorOf(message) : undefined;
    const anchor = found === undefined ? undefined : anchorKey(found);
    if (anchor !== undefined) {
      const equal = this.young.byAnchor.get(anchor) ?? this.old.byAnchor.get(anchor);
      if (equal && readsAsSnapshot(message, equal.copy)) {
        this.keep(equal, message as object); // an anchor is only looked for in objects
        return equal;
      }
    }
    const snapshot = snapshotJson(message, index);
    // Cycles, BigInt, throwing getters: serialized now by the careful serializer, never cached.
    if (!snapshot) return new MessagePiece(undefined, 0, safeStringify(message, this.replacer, { outerDepth: 1 }));
    let piece: MessagePiece | undefined;
    // Looked up by the snapshot's anchor only when the message's own could not be had (a `toJSON` before it):
    // under the same anchor, the piece found is the one just compared with the message.
    const snapshotAnchor = snapshot.anchor === undefined ? undefined : anchorKey(snapshot.anchor);
    if (snapshotAnchor !== undefined && snapshotAnchor !== anchor) {
      const equal = this.young.byAnchor.get(snapshotAnchor) ?? this.old.byAnchor.get(snapshotAnchor);
      if (equal && readsAsSnapshot(snapshot.copy, equal.copy)) piece = equal;
    }
    if (piece) {
      this.keep(piece, isObject ? message : undefined);
      return piece;
    }
    piece = new MessagePiece(snapshot.copy, snapshot.chars, undefined, snapshotAnchor);
    this.young.newChars += piece.chars;
    this.young.pieces.add(piece);
    if (isObject) this.young.byIdentity.set(message, piece);
    if (snapshotAnchor !== undefined) this.young.byAnchor.set(snapshotAnchor, piece);
    this.age();
    return piece;
  }

  /** A piece used again: it belongs to the current generation now. */
  private keep(piece: MessagePiece, message: object | undefined): void {
    const young = this.young;
    if (message !== undefined) young.byIdentity.set(message, piece);
    if (young.pieces.has(piece)) return;
    young.pieces.add(piece);
    young.keptChars += piece.chars;
    if (piece.anchor !== undefined) young.byAnchor.set(piece.anchor, piece);
  }

  private age(): void {
    const young = this.young;
    if (young.newChars >= Math.max(GENERATION_MIN_CHARS, young.keptChars)) {
      this.old = young;
      this.young = new Generation();
    }
    // Over budget (one session sending more than it can keep): keep the current generation only, or nothing.
    if (this.heldChars > this.budgetChars) this.old = new Generation();
    if (this.heldChars > this.budgetChars) this.young = new Generation();
  }

  clear(): void {
    this.young = new Generation();
    this.old = new Generation();
    this.texts = 0;
    this.clears += 1;
    this.settle();
  }

  /** Adds the change of `heldChars` since the last time to the tally. */
  private settle(): void {
    const tally = this.tally;
    if (tally === undefined) return;
    const held = this.heldChars;
    tally.total += held - this.countedChars;
    this.countedChars = held;
  }
}

/** Characters held by all the caches of one owner. */
export interface HeldTally {
  total: number;
}

/**
 * The caches of one owner (one instrumentation's policy), per session.
 * Released when idle, and bounded in total.
 */
export class SessionMessageCaches {
  private readonly sessions = new Map<string, MessageCache>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /**
   * What the sessions hold, kept up to date by the caches themselves, so
   * asking for a session costs the same with ten sessions as with ten
   * thousand (a gateway keeps every session of the last idle period).
   */
  private readonly tally: HeldTally = { total: 0 };

  constructor(
    private readonly replacer: JsonReplacer | undefined,
    private readonly limits: { sessionChars?: number; totalChars?: number; idleMs?: number } = {},
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** The cache of a session (made on first use). */
  forSession(sessionId: string | null): MessageCache {
    const key = sessionId ?? '\u0000none';
    let cache = this.sessions.get(key);
    if (cache) {
      // Most recently used last: the Map's order is the eviction order.
      this.sessions.delete(key);
    } else {
      cache = new MessageCache(this.replacer, this.limits.sessionChars ?? SESSION_BUDGET_CHARS);
      cache.tally = this.tally;
    }
    this.sessions.set(key, cache);
    cache.lastUsed = Date.now();
    this.release(cache.lastUsed);
    return cache;
  }

  /** Releases idle sessions, and the least recently used ones while over the total budget. */
  sweep(now = Date.now()): void {
    this.release(now);
  }

  /** Walks from the least recently used session only as far as it releases. */
  private release(now: number): void {
    const idleMs = this.limits.idleMs ?? IDLE_MS;
    const totalBudget = this.limits.totalChars ?? TOTAL_BUDGET_CHARS;
    for (const [key, cache] of this.sessions) {
      // The most recent session stays: it is the one being used.
      if (this.sessions.size === 1 || (now - cache.lastUsed < idleMs && this.tally.total <= totalBudget)) break;
      // Let go of the tally first: a turn still under way may fill this cache again, and it counts no more.
      this.tally.total -= cache.countedChars;
      cache.tally = undefined;
      cache.clear();
      this.sessions.delete(key);
    }
    this.armTimer(idleMs);
  }

  /** While anything is held, look again after an idle period (unref'd: it never keeps a process alive). */
  private armTimer(idleMs: number): void {
    if (this.timer !== undefined || this.sessions.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sweep();
    }, idleMs);
    this.timer.unref?.();
  }
}
