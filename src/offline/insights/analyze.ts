/**
 * One streaming pass over the records of one input: per-group aggregates,
 * per-preset and per-session totals, and the text measures of every user
 * turn, returned as plain data (`InsightsPartial`) so partials from worker
 * threads merge. Memory: the aggregates plus, per session, the open user
 * turn (its latest fan-out's n-gram sets); never the turns themselves.
 */
import type { ReferenceRecord, TurnRecord } from '../../record/schema.js';
import { parseDecimal, DecimalSum, type ScaledDecimal } from '../../record/decimal.js';
import { usageOfRecord } from '../../record/usage.js';
import {
  attributeAnswer, attributeAnswerText, indexReferenceTexts, MAX_INDEXED_REFERENCES, ngramSet, redundancyMatrix, redundancyOfTexts,
  type NGramSet, type TextIndex,
} from '../../content/text-overlap.js';
import { isFailedCall } from '../summary.js';
import { FAILED_OUTPUT_PREFIX } from '../../record/schema.js';
import type { InsightsGroupBy, TokenTotals } from './document.js';
import { addToSketch, emptySketch, mergeSketch, type SketchData } from './quantiles.js';
import { asksForTools, finalAnswerOf, previousAnswerIn, UserTurnTracker } from './user-turns.js';

/** What to select and how to group (plain data: it crosses to worker threads). */
export interface AnalyzeSettings {
  groupBy: InsightsGroupBy;
  /** Epoch seconds, inclusive. */
  since: number | null;
  until: number | null;
  presets: string[];
  sessions: string[];
  /** Words per n-gram of the text measures. */
  ngram: number;
}

/** An identity field of a group: its one value, or `mixed` when several were seen. */
export interface SeenValue {
  value: string | null;
  mixed: boolean;
}

export interface GroupData {
  key: string;
  preset: SeenValue | null;
  label: SeenValue | null;
  model: SeenValue | null;
  provider: SeenValue | null;
  calls: number;
  failures: number;
  reasons: Record<string, number>;
  tokens: TokenTotals;
  cost: string;
  unknownCostCalls: number;
  latency: SketchData;
  stragglerTurns: number;
  stragglerLast: number;
  wait: SketchData;
  waitTotal: number;
  measured: number;
  agreementSum: number;
  uniqueSum: number;
  /** Measured turns in which its unique contribution was above 0. */
  helped: number;
  /** Other group key → summed containment of this group's output in that group's, and the turns summed. */
  redundancy: Record<string, { sum: number; turns: number }>;
  /** User turns in which this group made at least one call. */
  userTurns: number;
}

export interface SpendData {
  cost: string;
  unknownCostCalls: number;
  unrecorded: number;
}

/** Per reference slot label (or slot key): measured turns and those in which it contributed something unique. */
export type HelpData = Record<string, { measured: number; helped: number }>;

export interface PresetData {
  preset: string;
  iterations: number;
  userTurns: number;
  spend: SpendData;
  answerLatency: SketchData;
  slots: HelpData;
}

export interface SessionData {
  session: string;
  presets: string[];
  iterations: number;
  userTurns: number;
  spend: SpendData;
  firstTs: number | null;
  lastTs: number | null;
  slots: HelpData;
}

export interface InsightsPartial {
  turns: number;
  userTurns: number;
  spend: SpendData;
  groups: Record<string, GroupData>;
  presets: Record<string, PresetData>;
  sessions: Record<string, SessionData>;
  problems: number;
}

/** Index tables kept for reuse. */
const MAX_SPARE_INDEXES = 4;
/** Distinct failure reasons kept per group; further ones count under "(other)". */
const MAX_REASONS = 50;
const MAX_REASON_CHARS = 120;
const OTHER_REASON = '(other)';

export function emptyPartial(): InsightsPartial {
  return { turns: 0, userTurns: 0, spend: emptySpend(), groups: {}, presets: {}, sessions: {}, problems: 0 };
}

/** The slot key of a reference: "preset/label". */
/** The session a record belongs to: its id, else its file's stem. */
export function sessionOf(record: TurnRecord, fileSession: string): string {
  return record.session_id !== null && record.session_id !== '' ? record.session_id : fileSession;
}

/** Whether the filters select a record (also used by the judge, so both see the same turns). */
export function selectsRecord(s: AnalyzeSettings, record: TurnRecord, session: string, fileSession: string): boolean {
  if (s.since !== null && record.ts < s.since) return false;
  if (s.until !== null && record.ts > s.until) return false;
  if (s.presets.length > 0 && !s.presets.includes(record.preset)) return false;
  if (s.sessions.length > 0 && !s.sessions.includes(session) && !s.sessions.includes(fileSession)) return false;
  return true;
}

/** The row a reference call counts in, per `--by`. */
export function groupKeyOf(groupBy: InsightsGroupBy, record: TurnRecord, ref: ReferenceRecord): string {
  switch (groupBy) {
    case 'model': return ref.model ?? ref.label;
    case 'preset': return record.preset;
    case 'day': return utcDay(record.ts);
    default: return slotKey(record.preset, ref.label);
  }
}

export function slotKey(preset: string, label: string): string {
  return `${preset}/${label}`;
}

interface Fanout {
  groupKeys: string[];
  labels: string[];
  /** Per reference: whether its output is measured (it did not fail). */
  measured: boolean[];
  /** The outputs indexed (one lookup per n-gram of the answer); null past MAX_INDEXED_REFERENCES references... */
  index: TextIndex | null;
  /** ...where each output has an n-gram set instead. */
  sets: (NGramSet | null)[] | null;
}

interface OpenTurn {
  preset: string;
  session: string;
  startSec: number | null;
  lastAskedTools: boolean;
  answer: string | null;
  answerEndSec: number | null;
  fanout: Fanout | null;
  groupsRan: Set<string>;
}

/** Costs are summed exactly beside the plain data and written into it at `finish()`. */
class SpendSum {
  readonly sum = new DecimalSum();
  constructor(readonly data: SpendData) {}
  sync(): void {
    this.data.cost = this.sum.toString();
  }
}

export class InsightsAnalyzer {
  private readonly partial = emptyPartial();
  private readonly open = new Map<string, OpenTurn>();
  private readonly sums = new Map<SpendData, SpendSum>();
  private readonly groupCost = new Map<string, DecimalSum>();
  private readonly tracker = new UserTurnTracker();
  /** Index tables of closed turns, reused by the next fan-outs (allocating them is most of their cost). */
  private readonly spareIndexes: TextIndex[] = [];

  constructor(private readonly settings: AnalyzeSettings) {}

  /** A line that could not be read. */
  problem(): void {
    this.partial.problems += 1;
  }

  /** Adds one record; `fileSession` names the session of records without an id (the file stem). */
  add(record: TurnRecord, fileSession: string): void {
    const session = sessionOf(record, fileSession);
    if (!this.selects(record, session, fileSession)) return;
    const p = this.partial;
    p.turns += 1;
    const preset = this.presetData(record.preset);
    const sessionData = this.sessionData(session);
    preset.iterations += 1;
    sessionData.iterations += 1;
    if (!sessionData.presets.includes(record.preset)) sessionData.presets.push(record.preset);
    sessionData.firstTs = sessionData.firstTs === null ? record.ts : Math.min(sessionData.firstTs, record.ts);
    sessionData.lastTs = sessionData.lastTs === null ? record.ts : Math.max(sessionData.lastTs, record.ts);

    const spends = [p.spend, preset.spend, sessionData.spend];
    // One loop over the calls, each cost parsed once (the references' count in their groups too). Plain
    // loops, no callbacks: this runs for every record, and its optimized code stays small and valid.
    const references = record.references;
    const groupKeys: string[] = [];
    for (let i = 0; i <= references.length; i++) {
      const call = i < references.length ? (references[i] as ReferenceRecord) : record.aggregator;
      const cost = parseDecimal(call.cost_usd);
      for (const spend of spends) {
        if (cost) this.sumOf(spend).sum.addDecimal(cost);
        else spend.unknownCostCalls += 1;
      }
      if (i === references.length) break; // the aggregator: in no group
      const key = this.groupKey(record, call as ReferenceRecord);
      groupKeys.push(key);
      this.addCall(this.group(key), record, call as ReferenceRecord, cost);
    }
    this.addStragglers(record.references, groupKeys);

    const fanout = record.references.length > 0 ? this.fanoutOf(record, groupKeys) : null;
    if (fanout) this.addRedundancy(fanout);
    this.sequence(record, session, fanout);
  }

  /** Closes every open user turn and returns the data. */
  finish(): InsightsPartial {
    for (const turn of this.open.values()) this.close(turn);
    this.open.clear();
    for (const sum of this.sums.values()) sum.sync();
    for (const [key, sum] of this.groupCost) (this.partial.groups[key] as GroupData).cost = sum.toString();
    return this.partial;
  }

  private selects(record: TurnRecord, session: string, fileSession: string): boolean {
    return selectsRecord(this.settings, record, session, fileSession);
  }

  private groupKey(record: TurnRecord, ref: ReferenceRecord): string {
    return groupKeyOf(this.settings.groupBy, record, ref);
  }

  private addCall(group: GroupData, record: TurnRecord, ref: ReferenceRecord, cost: ScaledDecimal | null): void {
    see(group, 'preset', record.preset);
    see(group, 'label', ref.label);
    see(group, 'model', ref.model);
    see(group, 'provider', ref.provider);
    group.calls += 1;
    if (isFailedCall(ref)) {
      group.failures += 1;
      const reason = failureReason(ref);
      const known = reason in group.reasons || Object.keys(group.reasons).length < MAX_REASONS;
      const key = known ? reason : OTHER_REASON;
      group.reasons[key] = (group.reasons[key] ?? 0) + 1;
    }
    const usage = usageOfRecord(ref.usage);
    group.tokens.input += usage.inputTokens;
    group.tokens.output += usage.outputTokens;
    group.tokens.cache_read += usage.cacheReadTokens;
    group.tokens.cache_write += usage.cacheWriteTokens;
    group.tokens.reasoning += usage.reasoningTokens;
    if (cost) this.costOf(group.key).addDecimal(cost);
    else group.unknownCostCalls += 1;
    const duration = durationMs(ref);
    if (duration !== null) addToSketch(group.latency, duration);
  }

  /**
   * Among references with a recorded end (failed ones too: the turn waited
   * for them as well), the one that ended last is the straggler; the wait it
   * added is its end minus the next-latest end.
   */
  private addStragglers(references: readonly ReferenceRecord[], groupKeys: readonly string[]): void {
    const timed = references.flatMap((ref, i) => (typeof ref.ended_at === 'number' && Number.isFinite(ref.ended_at) ? [{ end: ref.ended_at, key: groupKeys[i] as string }] : []));
    if (timed.length < 2) return;
    let last = 0;
    for (let i = 1; i < timed.length; i++) if ((timed[i] as { end: number }).end > (timed[last] as { end: number }).end) last = i;
    let second = -Infinity;
    timed.forEach((t, i) => { if (i !== last) second = Math.max(second, t.end); });
    for (const key of new Set(timed.map((t) => t.key))) this.group(key).stragglerTurns += 1;
    const straggler = this.group((timed[last] as { key: string }).key);
    straggler.stragglerLast += 1;
    // Epoch seconds as floats: round the difference to the microsecond the writer recorded.
    const wait = Math.round(((timed[last] as { end: number }).end - second) * 1e6) / 1e3;
    addToSketch(straggler.wait, wait);
    straggler.waitTotal = Math.round((straggler.waitTotal + wait) * 1e3) / 1e3;
  }

  private fanoutOf(record: TurnRecord, groupKeys: string[]): Fanout {
    const options = { n: this.settings.ngram };
    const texts = record.references.map((ref) => (isFailedCall(ref) || typeof ref.output !== 'string' || ref.output.startsWith(FAILED_OUTPUT_PREFIX)
      ? null
      : ref.output));
    const indexed = texts.length <= MAX_INDEXED_REFERENCES;
    return {
      groupKeys,
      labels: record.references.map((ref) => ref.label),
      measured: texts.map((text) => text !== null),
      index: indexed ? indexReferenceTexts(texts, options, this.spareIndexes.pop()) : null,
      sets: indexed ? null : texts.map((text) => (text === null ? null : ngramSet(text, options))),
    };
  }

  private addRedundancy(fanout: Fanout): void {
    const matrix = fanout.index ? redundancyOfTexts(fanout.index) : redundancyMatrix(fanout.sets ?? []);
    const count = fanout.measured.length;
    for (let i = 0; i < count; i++) {
      const groupA = fanout.groupKeys[i] as string;
      const row = matrix[i];
      if (!row) continue;
      for (let j = 0; j < count; j++) {
        const groupB = fanout.groupKeys[j] as string;
        const share = row[j] ?? null;
        if (share === null || groupA === groupB) continue;
        const pair = (this.group(groupA).redundancy[groupB] ??= { sum: 0, turns: 0 });
        pair.sum += share;
        pair.turns += 1;
      }
    }
  }

  private sequence(record: TurnRecord, session: string, fanout: Fanout | null): void {
    let turn = this.open.get(session);
    const previousPreset = turn?.preset ?? record.preset;
    const step = this.tracker.observe(record, session);
    if (!turn || step.startsTurn) {
      if (turn) {
        // An answer from an unrecorded iteration is repeated by the next request.
        if (turn.lastAskedTools) turn.answer ??= previousAnswerIn(record);
        this.close(turn);
      }
      turn = {
        preset: record.preset, session, startSec: null, lastAskedTools: false,
        answer: null, answerEndSec: null, fanout: null, groupsRan: new Set(),
      };
      this.open.set(session, turn);
    }
    // Counted on the turn the missing iterations belonged to (the one just closed, or this one).
    if (step.unrecorded > 0) this.unrecorded(step.startsTurn ? previousPreset : record.preset, session, step.unrecorded);
    const start = startSecondsOf(record);
    if (start !== null) turn.startSec = turn.startSec === null ? start : Math.min(turn.startSec, start);
    turn.lastAskedTools = asksForTools(record.aggregator);
    turn.answer = finalAnswerOf(record.aggregator);
    turn.answerEndSec = turn.answer !== null ? (typeof record.aggregator.ended_at === 'number' ? record.aggregator.ended_at : null) : null;
    if (fanout) {
      this.release(turn.fanout);
      turn.fanout = fanout;
      for (const key of fanout.groupKeys) turn.groupsRan.add(key);
    }
  }

  private unrecorded(preset: string, session: string, count: number): void {
    this.partial.spend.unrecorded += count;
    this.presetData(preset).spend.unrecorded += count;
    this.sessionData(session).spend.unrecorded += count;
  }

  private close(turn: OpenTurn): void {
    this.measureTurn(turn);
    this.release(turn.fanout);
    turn.fanout = null;
  }

  /** A fan-out no turn refers to any more: its index table can serve the next one. */
  private release(fanout: Fanout | null): void {
    if (fanout?.index && this.spareIndexes.length < MAX_SPARE_INDEXES) this.spareIndexes.push(fanout.index);
  }

  private measureTurn(turn: OpenTurn): void {
    const preset = this.presetData(turn.preset);
    const session = this.sessionData(turn.session);
    this.partial.userTurns += 1;
    preset.userTurns += 1;
    session.userTurns += 1;
    for (const key of turn.groupsRan) this.group(key).userTurns += 1;
    if (turn.answerEndSec !== null && turn.startSec !== null && turn.answerEndSec >= turn.startSec) {
      addToSketch(preset.answerLatency, Math.round((turn.answerEndSec - turn.startSec) * 1e6) / 1e3);
    }
    if (turn.answer === null || turn.fanout === null) return;
    const { fanout } = turn;
    const options = { n: this.settings.ngram };
    const attribution = fanout.index
      ? attributeAnswerText(turn.answer, fanout.index, options)
      : attributeAnswer(ngramSet(turn.answer, options), fanout.sets ?? []);
    if (attribution.answerGrams === 0) return;
    fanout.measured.forEach((measured, i) => {
      if (!measured) return;
      const agreement = attribution.agreement[i] as number;
      const unique = attribution.unique[i] as number;
      const group = this.group(fanout.groupKeys[i] as string);
      group.measured += 1;
      group.agreementSum += agreement;
      group.uniqueSum += unique;
      if (unique > 0) group.helped += 1;
      const label = fanout.labels[i] as string;
      countHelp(preset.slots, label, unique > 0);
      countHelp(session.slots, slotKey(turn.preset, label), unique > 0);
    });
  }

  private group(key: string): GroupData {
    let group = this.partial.groups[key];
    if (!group) {
      group = emptyGroup(key);
      this.partial.groups[key] = group;
    }
    return group;
  }

  private costOf(key: string): DecimalSum {
    let sum = this.groupCost.get(key);
    if (!sum) {
      sum = new DecimalSum();
      this.groupCost.set(key, sum);
    }
    return sum;
  }

  private sumOf(spend: SpendData): SpendSum {
    let sum = this.sums.get(spend);
    if (!sum) {
      sum = new SpendSum(spend);
      this.sums.set(spend, sum);
    }
    return sum;
  }

  private presetData(name: string): PresetData {
    return (this.partial.presets[name] ??= {
      preset: name, iterations: 0, userTurns: 0, spend: emptySpend(), answerLatency: emptySketch(), slots: {},
    });
  }

  private sessionData(name: string): SessionData {
    return (this.partial.sessions[name] ??= {
      session: name, presets: [], iterations: 0, userTurns: 0, spend: emptySpend(), firstTs: null, lastTs: null, slots: {},
    });
  }
}

/** Adds `from` into `into` (both plain data; `into` is changed). */
export function mergePartial(into: InsightsPartial, from: InsightsPartial): void {
  into.turns += from.turns;
  into.userTurns += from.userTurns;
  into.problems += from.problems;
  mergeSpend(into.spend, from.spend);
  for (const [key, g] of Object.entries(from.groups)) {
    const t = into.groups[key];
    if (!t) {
      into.groups[key] = g;
      continue;
    }
    for (const field of ['preset', 'label', 'model', 'provider'] as const) {
      const v = g[field];
      if (v) {
        see(t, field, v.value);
        if (v.mixed) (t[field] as SeenValue).mixed = true;
      }
    }
    t.calls += g.calls;
    t.failures += g.failures;
    for (const [reason, count] of Object.entries(g.reasons)) t.reasons[reason] = (t.reasons[reason] ?? 0) + count;
    for (const k of Object.keys(t.tokens) as (keyof TokenTotals)[]) t.tokens[k] += g.tokens[k];
    t.cost = addDecimalText(t.cost, g.cost);
    t.unknownCostCalls += g.unknownCostCalls;
    mergeSketch(t.latency, g.latency);
    t.stragglerTurns += g.stragglerTurns;
    t.stragglerLast += g.stragglerLast;
    mergeSketch(t.wait, g.wait);
    t.waitTotal = Math.round((t.waitTotal + g.waitTotal) * 1e3) / 1e3;
    t.measured += g.measured;
    t.agreementSum += g.agreementSum;
    t.uniqueSum += g.uniqueSum;
    t.helped += g.helped;
    for (const [other, r] of Object.entries(g.redundancy)) {
      const pair = (t.redundancy[other] ??= { sum: 0, turns: 0 });
      pair.sum += r.sum;
      pair.turns += r.turns;
    }
    t.userTurns += g.userTurns;
  }
  for (const [key, p] of Object.entries(from.presets)) {
    const t = into.presets[key];
    if (!t) {
      into.presets[key] = p;
      continue;
    }
    t.iterations += p.iterations;
    t.userTurns += p.userTurns;
    mergeSpend(t.spend, p.spend);
    mergeSketch(t.answerLatency, p.answerLatency);
    mergeHelp(t.slots, p.slots);
  }
  for (const [key, s] of Object.entries(from.sessions)) {
    const t = into.sessions[key];
    if (!t) {
      into.sessions[key] = s;
      continue;
    }
    for (const preset of s.presets) if (!t.presets.includes(preset)) t.presets.push(preset);
    t.iterations += s.iterations;
    t.userTurns += s.userTurns;
    mergeSpend(t.spend, s.spend);
    t.firstTs = minNullable(t.firstTs, s.firstTs, Math.min);
    t.lastTs = minNullable(t.lastTs, s.lastTs, Math.max);
    mergeHelp(t.slots, s.slots);
  }
}

function emptySpend(): SpendData {
  return { cost: '0', unknownCostCalls: 0, unrecorded: 0 };
}

function emptyGroup(key: string): GroupData {
  return {
    key, preset: null, label: null, model: null, provider: null, calls: 0, failures: 0, reasons: {},
    tokens: { input: 0, output: 0, cache_read: 0, cache_write: 0, reasoning: 0 }, cost: '0', unknownCostCalls: 0,
    latency: emptySketch(), stragglerTurns: 0, stragglerLast: 0, wait: emptySketch(), waitTotal: 0,
    measured: 0, agreementSum: 0, uniqueSum: 0, helped: 0, redundancy: {}, userTurns: 0,
  };
}

function see(group: GroupData, field: 'preset' | 'label' | 'model' | 'provider', value: string | null): void {
  const seen = group[field];
  if (!seen) group[field] = { value, mixed: false };
  else if (seen.value !== value) seen.mixed = true;
}

function countHelp(help: HelpData, key: string, helped: boolean): void {
  const entry = (help[key] ??= { measured: 0, helped: 0 });
  entry.measured += 1;
  if (helped) entry.helped += 1;
}

function mergeHelp(into: HelpData, from: HelpData): void {
  for (const [key, h] of Object.entries(from)) {
    const entry = (into[key] ??= { measured: 0, helped: 0 });
    entry.measured += h.measured;
    entry.helped += h.helped;
  }
}

function mergeSpend(into: SpendData, from: SpendData): void {
  into.cost = addDecimalText(into.cost, from.cost);
  into.unknownCostCalls += from.unknownCostCalls;
  into.unrecorded += from.unrecorded;
}

function addDecimalText(a: string, b: string): string {
  const sum = new DecimalSum();
  sum.add(a);
  sum.add(b);
  return sum.toString();
}

function minNullable(a: number | null, b: number | null, pick: (x: number, y: number) => number): number | null {
  return a === null ? b : b === null ? a : pick(a, b);
}

function failureReason(call: ReferenceRecord): string {
  let reason = typeof call.error === 'string' && call.error !== '' ? call.error : null;
  if (reason === null) {
    const out = call.output ?? '';
    reason = out.startsWith(FAILED_OUTPUT_PREFIX) ? out.slice(FAILED_OUTPUT_PREFIX.length, -1) : 'failed';
  }
  const line = reason.replace(/\s+/g, ' ').trim();
  return line.length > MAX_REASON_CHARS ? `${line.slice(0, MAX_REASON_CHARS - 1)}…` : line;
}

function durationMs(call: ReferenceRecord): number | null {
  if (typeof call.duration_ms === 'number' && Number.isFinite(call.duration_ms)) return call.duration_ms;
  if (typeof call.started_at === 'number' && typeof call.ended_at === 'number' && call.ended_at >= call.started_at) {
    return Math.round((call.ended_at - call.started_at) * 1e6) / 1e3;
  }
  return null;
}

/** When the iteration started: its root's start, else its earliest call, else when it was written. */
function startSecondsOf(record: TurnRecord): number | null {
  if (typeof record.started_at === 'number') return record.started_at;
  const starts = [...record.references, record.aggregator]
    .map((c) => c.started_at)
    .filter((s): s is number => typeof s === 'number');
  return starts.length > 0 ? Math.min(...starts) : null;
}

function utcDay(ts: number): string {
  const date = new Date(ts * 1000);
  return Number.isNaN(date.getTime()) ? 'unknown' : date.toISOString().slice(0, 10);
}
