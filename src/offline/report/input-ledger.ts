/**
 * Which of a call's input messages the page has already shown, so that the
 * report shows each message in full once. An agent session's lines repeat
 * the whole growing conversation once per reference and once more for the
 * aggregator: rendered as it is, the page grows with the square of the
 * turns. Here a call's list is cut into runs: messages shown in full (the
 * first time the page meets them) and runs equal to a run of a list already
 * placed, which the page shows as one line linking to it.
 *
 * A list is compared with the lists most likely to share its messages: the
 * same call's list of the previous turn (the conversation so far), the
 * calls of this turn placed before it (the references usually share the
 * conversation), then the previous turn's other calls. Equality is exact
 * (`readsAsSnapshot`: for parsed JSON, the messages' JSON texts are equal,
 * keys in order); a cheap fingerprint only
 * picks which positions to compare. Only the previous and the current
 * turn's messages are held; of older lists, only their runs.
 *
 * A run found in a list where that whole run is itself a link is followed to
 * where it is shown, so a link lands on the messages, not on another link.
 */
import { readsAsSnapshot } from '../../content/json-snapshot.js';

/** A call's input list as placed on the page. */
export interface ShownList {
  /** Prefix of its anchors: message 5 of list `t3-ref2` is `#t3-ref2-m5`. */
  readonly id: string;
  readonly turn: number;
  /** How the page names the call: "reference 2", "aggregator". */
  readonly call: string;
  /** In order, covering every message once. */
  readonly runs: readonly Run[];
}

/** Messages `from` to `to` (exclusive, 0-based) of a list. */
export type Run =
  | { readonly kind: 'new'; readonly from: number; readonly to: number }
  /** Equal to messages `at` … `at + (to - from)` of `list`. */
  | { readonly kind: 'seen'; readonly from: number; readonly to: number; readonly list: ShownList; readonly at: number };

interface Placed {
  shown: ShownList;
  messages: readonly unknown[];
  /** The messages' fingerprints (a linked message's is its source's: computed once per page). */
  prints: Int32Array;
}

/** Where a message with some fingerprint is, in a list of the current or the previous turn. */
interface Spot {
  placed: Placed;
  at: number;
}

/** Spots with one fingerprint compared at most, so lists of look-alike messages stay linear. */
const MAX_PROBES = 8;

/** The best run found so far at one position. */
interface Best {
  placed: Placed | null;
  at: number;
  length: number;
  /** The fingerprint of the message at the position, once computed. */
  print: number;
}

export class InputLedger {
  private turn = Number.NaN;
  private previous = new Map<string, Placed>();
  private current = new Map<string, Placed>();
  /** This turn's lists in page order. */
  private currentLists: Placed[] = [];
  /** Fingerprint → where messages with it are, in this turn's lists and in the previous turn's. */
  private currentSpots = new Map<number, Spot[]>();
  private previousSpots = new Map<number, Spot[]>();

  /**
   * Places one call's list. `slot` names the call across turns ("ref2",
   * "agg"); calls of a turn are placed in page order, turns in increasing order.
   */
  place(turn: number, slot: string, call: string, messages: readonly unknown[]): ShownList {
    if (turn !== this.turn) {
      this.turn = turn;
      this.previous = this.current;
      this.current = new Map();
      this.currentLists = [];
      this.previousSpots = this.currentSpots;
      this.currentSpots = new Map();
    }
    const runs: Run[] = [];
    const shown: ShownList = { id: `t${turn}-${slot}`, turn, call, runs };
    // What is kept of the list: a message found on the page already is kept as the object
    // placed first, so the record's own copy dies young (no promotion, no copying by the GC).
    const kept: unknown[] = [];
    const prints = new Int32Array(messages.length);
    const placed: Placed = { shown, messages: kept, prints };
    const same = this.previous.get(slot);
    const best: Best = { placed: null, at: 0, length: 0, print: 0 };
    for (let p = 0; p < messages.length;) {
      const computed = this.longestRun(same, messages, p, best);
      if (best.placed) {
        addSeen(runs, p, best.length, follow(best.placed.shown, best.at, best.length));
        const from = best.placed;
        for (let i = 0; i < best.length; i++) {
          kept.push(from.messages[best.at + i]);
          prints[p + i] = from.prints[best.at + i] as number;
        }
        p += best.length;
      } else {
        addNew(runs, p);
        kept.push(messages[p]);
        prints[p] = computed ? best.print : fingerprint(messages[p]);
        p += 1;
      }
    }
    this.current.set(slot, placed);
    this.currentLists.push(placed);
    for (let at = 0; at < kept.length; at++) addSpot(this.currentSpots, prints[at] as number, { placed, at });
    return shown;
  }

  /**
   * The longest run at `p` equal to a run of a placed list, into `best`
   * (`placed` null when none). The same position of the same call's previous
   * list and of this turn's lists first (a conversation that grew,
   * references sharing one), then every spot with the message's fingerprint.
   */
  private longestRun(same: Placed | undefined, messages: readonly unknown[], p: number, best: Best): boolean {
    best.placed = null;
    best.length = 0;
    if (same) consider(best, same, p, messages, p);
    const lists = this.currentLists;
    for (let i = 0; i < lists.length; i++) {
      if (best.length > 0 && p + best.length === messages.length) return false;
      consider(best, lists[i] as Placed, p, messages, p);
    }
    if (best.length > 0 && p + best.length === messages.length) return false;
    best.print = fingerprint(messages[p]);
    if (!probe(this.currentSpots.get(best.print), best, messages, p)) probe(this.previousSpots.get(best.print), best, messages, p);
    return true;
  }
}

/** Considers each spot; true once a run reaches the end of the list (nothing can beat it). */
function probe(spots: Spot[] | undefined, best: Best, messages: readonly unknown[], p: number): boolean {
  if (!spots) return false;
  for (let i = 0; i < spots.length; i++) {
    const spot = spots[i] as Spot;
    consider(best, spot.placed, spot.at, messages, p);
    if (p + best.length === messages.length) return true;
  }
  return false;
}

/** Whether the run at `q` of `placed` beats `best`; if so it becomes the best. */
function consider(best: Best, placed: Placed, q: number, messages: readonly unknown[], p: number): void {
  const other = placed.messages;
  if (q >= other.length) return;
  const beat = best.length;
  // Only a longer run can win: the message one past the best's length is compared first.
  if (beat > 0 && (p + beat >= messages.length || q + beat >= other.length || !sameMessage(messages[p + beat], other[q + beat]))) return;
  if (!sameMessage(messages[p], other[q])) return;
  const length = runLength(messages, p, other, q);
  if (length > beat) {
    best.placed = placed;
    best.at = q;
    best.length = length;
  }
}

function addSpot(spots: Map<number, Spot[]>, print: number, spot: Spot): void {
  const list = spots.get(print);
  if (!list) spots.set(print, [spot]);
  else if (list.length < MAX_PROBES) list.push(spot);
}

/** The anchor of message `at` of a list: the message itself, or the line standing for it. */
export function anchorOf(list: ShownList, at: number): string {
  const run = runAt(list, at);
  return `${list.id}-m${(run && run.kind === 'seen' ? run.from : at) + 1}`;
}

/** Where message `at` of a list is shown in full. */
export function homeOf(list: ShownList, at: number): { list: ShownList; at: number } {
  return follow(list, at, 1);
}

function runLength(a: readonly unknown[], p: number, b: readonly unknown[], q: number): number {
  let n = 1;
  while (p + n < a.length && q + n < b.length && sameMessage(a[p + n], b[q + n])) n += 1;
  return n;
}

/** Where messages `at` … `at + length` of `list` are shown: followed through links that hold the whole run. */
function follow(list: ShownList, at: number, length: number): { list: ShownList; at: number } {
  for (;;) {
    const run = runAt(list, at);
    if (!run || run.kind !== 'seen' || at + length > run.to) return { list, at };
    at = run.at + (at - run.from);
    list = run.list;
  }
}

function runAt(list: ShownList, at: number): Run | undefined {
  const runs = list.runs;
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const run = runs[mid] as Run;
    if (at < run.from) hi = mid - 1;
    else if (at >= run.to) lo = mid + 1;
    else return run;
  }
  return undefined;
}

function addSeen(runs: Run[], p: number, length: number, where: { list: ShownList; at: number }): void {
  const last = runs.at(-1);
  // Two runs found one after the other in the same place are one line.
  if (last && last.kind === 'seen' && last.list === where.list && last.at + (last.to - last.from) === where.at) {
    runs[runs.length - 1] = { ...last, to: p + length };
  } else {
    runs.push({ kind: 'seen', from: p, to: p + length, list: where.list, at: where.at });
  }
}

function addNew(runs: Run[], p: number): void {
  const last = runs.at(-1);
  if (last && last.kind === 'new') runs[runs.length - 1] = { kind: 'new', from: last.from, to: p + 1 };
  else runs.push({ kind: 'new', from: p, to: p + 1 });
}

/**
 * Cheap, and only a filter: equal messages have equal fingerprints; which of
 * the look-alikes are equal is decided by `readsAsSnapshot`. A number, so that
 * looking one up allocates nothing.
 */
function fingerprint(message: unknown): number {
  if (message === null || typeof message !== 'object') return typeof message === 'string' ? textPrint(message) : 1;
  if (Array.isArray(message)) return 2 + message.length * 7;
  const m = message as Record<string, unknown>;
  const role = typeof m.role === 'string' ? textPrint(m.role) : 3;
  let h = (Math.imul(role, 31) + valuePrint(m.content)) | 0;
  // Tool traffic often has no text to tell messages apart (an assistant turn of tool calls
  // has null content): their ids do.
  if (typeof m.tool_call_id === 'string') h = (Math.imul(h, 31) + textPrint(m.tool_call_id)) | 0;
  if (Array.isArray(m.tool_calls) && m.tool_calls.length > 0) {
    const call = m.tool_calls[0] as Record<string, unknown> | null;
    h = (Math.imul(h, 31) + m.tool_calls.length + (call && typeof call === 'object' && typeof call.id === 'string' ? textPrint(call.id) : 0)) | 0;
  }
  return h;
}

function valuePrint(value: unknown): number {
  if (typeof value === 'string') return textPrint(value);
  if (Array.isArray(value)) {
    const first = value[0] as Record<string, unknown> | undefined;
    const text = first && typeof first === 'object' && typeof first.text === 'string' ? textPrint(first.text) : 5;
    return (Math.imul(value.length, 131) + text) | 0;
  }
  return value === null ? 7 : 11;
}

/** The length and a few characters spread over the text. */
function textPrint(text: string): number {
  const n = text.length;
  let h = n;
  if (n > 0) {
    for (let k = 0; k < 8; k++) h = (Math.imul(h, 33) + text.charCodeAt(Math.floor((k * (n - 1)) / 7))) | 0;
  }
  return h;
}

/**
 * True when two messages surely differ: a property both hold (the role, a
 * string content) with different plain values. Their JSON texts differ then;
 * it lets most unequal messages be told apart without listing their keys.
 */
function differsAtOnce(a: unknown, b: unknown): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return differentPlain(ra.content, rb.content) || differentPlain(ra.role, rb.role);
}

function differentPlain(x: unknown, y: unknown): boolean {
  return x !== y && (typeof x !== 'object' || x === null) && (typeof y !== 'object' || y === null);
}

function sameMessage(a: unknown, b: unknown): boolean {
  return a === b || (!differsAtOnce(a, b) && readsAsSnapshot(a, b));
}
