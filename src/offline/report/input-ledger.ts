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
 * (`sameJson`: the messages' JSON texts are equal); a cheap fingerprint only
 * picks which positions to compare. Only the previous and the current
 * turn's messages are held; of older lists, only their runs.
 *
 * A run found in a list where that whole run is itself a link is followed to
 * where it is shown, so a link lands on the messages, not on another link.
 */
import { sameJson } from './same-json.js';

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
  /** Fingerprint → positions, built the first time a message is looked up off its own position. */
  index?: Map<number, number[]>;
}

/** Positions with one fingerprint compared at most, so a list of look-alike messages stays linear. */
const MAX_PROBES = 8;

export class InputLedger {
  private turn = Number.NaN;
  private previous = new Map<string, Placed>();
  private current = new Map<string, Placed>();

  /**
   * Places one call's list. `slot` names the call across turns ("ref2",
   * "agg"); calls of a turn are placed in page order, turns in increasing order.
   */
  place(turn: number, slot: string, call: string, messages: readonly unknown[]): ShownList {
    if (turn !== this.turn) {
      this.turn = turn;
      this.previous = this.current;
      this.current = new Map();
    }
    const runs: Run[] = [];
    const shown: ShownList = { id: `t${turn}-${slot}`, turn, call, runs };
    const candidates = this.candidates(slot);
    for (let p = 0; p < messages.length;) {
      const found = candidates.length > 0 ? longestRun(candidates, messages, p) : null;
      if (found) {
        addSeen(runs, p, found.length, follow(found.list, found.at, found.length));
        p += found.length;
      } else {
        addNew(runs, p);
        p += 1;
      }
    }
    this.current.set(slot, { shown, messages });
    return shown;
  }

  private candidates(slot: string): Placed[] {
    const same = this.previous.get(slot);
    const list = same ? [same] : [];
    for (const placed of this.current.values()) list.push(placed);
    for (const [other, placed] of this.previous) if (other !== slot) list.push(placed);
    return list;
  }
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

function longestRun(candidates: readonly Placed[], messages: readonly unknown[], p: number): { list: ShownList; at: number; length: number } | null {
  let best: { list: ShownList; at: number; length: number } | null = null;
  let print: number | undefined;
  // A run found at `q` of `placed`, kept when longer than the best so far.
  const consider = (placed: Placed, q: number, firstEqual: boolean): void => {
    const other = placed.messages;
    const beat = best ? best.length : 0;
    // Only a run longer than the best can win: its message one past the best's length is compared first.
    if (beat > 0 && (p + beat >= messages.length || q + beat >= other.length || !sameMessage(messages[p + beat], other[q + beat]))) return;
    if (!firstEqual && !sameMessage(messages[p], other[q])) return;
    const length = runLength(messages, p, other, q);
    if (length > beat) best = { list: placed.shown, at: q, length };
  };
  for (const placed of candidates) {
    const other = placed.messages;
    // The usual case first: the same position (a conversation that grew, references sharing one).
    if (p < other.length && sameMessage(messages[p], other[p])) {
      consider(placed, p, true);
    } else {
      print ??= fingerprint(messages[p]);
      placed.index ??= indexOf(other);
      const positions = placed.index.get(print);
      if (positions) for (let i = 0; i < positions.length && i < MAX_PROBES; i++) consider(placed, positions[i] as number, false);
    }
    if (best && p + (best as { length: number }).length === messages.length) break;
  }
  return best;
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

function indexOf(messages: readonly unknown[]): Map<number, number[]> {
  const index = new Map<number, number[]>();
  for (let q = 0; q < messages.length; q++) {
    const print = fingerprint(messages[q]);
    const positions = index.get(print);
    if (positions) positions.push(q);
    else index.set(print, [q]);
  }
  return index;
}

/**
 * Cheap, and only a filter: equal messages have equal fingerprints; which of
 * the look-alikes are equal is decided by `sameJson`. A number, so that
 * looking one up allocates nothing.
 */
function fingerprint(message: unknown): number {
  if (message === null || typeof message !== 'object') return typeof message === 'string' ? textPrint(message) : 1;
  if (Array.isArray(message)) return 2 + message.length * 7;
  const m = message as Record<string, unknown>;
  const role = typeof m.role === 'string' ? textPrint(m.role) : 3;
  return (Math.imul(role, 31) + valuePrint(m.content)) | 0;
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
  return a === b || (!differsAtOnce(a, b) && sameJson(a, b));
}
