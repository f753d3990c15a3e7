/**
 * Usage and cost aggregated over many records, by model, provider, session
 * or UTC day. Costs are summed exactly (decimal), tokens per bucket.
 */
import type { ReferenceRecord, TurnRecord } from '../record/schema.js';
import { addUsage, usageOfRecord, ZERO_USAGE } from '../record/usage.js';
import type { Usage } from '../record/usage.js';
import { DecimalSum, parseExactDecimal, type ExactDecimal } from '../record/decimal.js';
import { isFailedCall } from './summary.js';

/** The few facts of a call that stats needs (cheaper than a full CallSummary). */
interface CallFacts {
  model: string | null;
  label: string;
  provider: string | null;
  tokens: Usage | null;
  cost: ExactDecimal | null;
  failed: boolean;
}

export const STATS_GROUPS = ['model', 'provider', 'session', 'day'] as const;
export type StatsGroup = (typeof STATS_GROUPS)[number];

export interface StatsRow {
  key: string;
  turns: number;
  calls: number;
  failedCalls: number;
  tokens: Usage;
  /** Exact decimal text of the known costs ("0" when none). */
  costUsd: string;
  /** Calls whose cost was unknown (not in the sum). */
  unknownCostCalls: number;
}

class Bucket {
  turns = 0;
  calls = 0;
  failedCalls = 0;
  tokens: Usage = ZERO_USAGE;
  cost = new DecimalSum();
  unknownCostCalls = 0;
  private lastTurn: TurnRecord | undefined;

  addCall(call: CallFacts, turn: TurnRecord): void {
    if (this.lastTurn !== turn) {
      this.turns += 1;
      this.lastTurn = turn;
    }
    this.calls += 1;
    if (call.failed) this.failedCalls += 1;
    if (call.tokens) this.tokens = addUsage(this.tokens, call.tokens);
    if (call.cost) this.cost.addDecimal(call.cost);
    else this.unknownCostCalls += 1;
  }

  row(key: string): StatsRow {
    return {
      key, turns: this.turns, calls: this.calls, failedCalls: this.failedCalls, tokens: this.tokens,
      costUsd: this.cost.toString(), unknownCostCalls: this.unknownCostCalls,
    };
  }
}

export class StatsAccumulator {
  private readonly buckets = new Map<string, Bucket>();
  private readonly total = new Bucket();

  constructor(readonly group: StatsGroup) {}

  /** `fileSession` names the session of records without a session id (the file stem). */
  add(record: TurnRecord, fileSession: string): void {
    // The hot loop of `stats` over gigabytes: per call facts only, each cost parsed once.
    for (let i = 0; i <= record.references.length; i++) {
      const raw = i < record.references.length ? (record.references[i] as ReferenceRecord) : record.aggregator;
      const call: CallFacts = {
        model: raw.model, label: raw.label, provider: raw.provider,
        tokens: raw.usage ? usageOfRecord(raw.usage) : null,
        cost: parseExactDecimal(raw.cost_usd),
        failed: isFailedCall(raw),
      };
      const key = this.keyOf(call, record, fileSession);
      let bucket = this.buckets.get(key);
      if (!bucket) {
        bucket = new Bucket();
        this.buckets.set(key, bucket);
      }
      bucket.addCall(call, record);
      this.total.addCall(call, record);
    }
  }

  /** Rows sorted by key (days read chronologically, models alphabetically). */
  rows(): StatsRow[] {
    return [...this.buckets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, bucket]) => bucket.row(key));
  }

  totals(): StatsRow {
    return this.total.row('TOTAL');
  }

  private keyOf(call: CallFacts, record: TurnRecord, fileSession: string): string {
    switch (this.group) {
      case 'model': return call.model ?? call.label;
      case 'provider': return call.provider ?? '(unknown)';
      case 'session': return record.session_id ?? fileSession;
      case 'day': return utcDay(record.ts);
    }
  }
}

function utcDay(epochSeconds: number): string {
  const date = new Date(epochSeconds * 1000);
  return Number.isNaN(date.getTime()) ? '(invalid time)' : date.toISOString().slice(0, 10);
}
