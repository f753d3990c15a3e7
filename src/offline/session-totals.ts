/**
 * The totals of a session that `ls` (per file) and `report` (per session)
 * show, from one accumulator so the two commands cannot disagree.
 *
 * Counts are of CALLS, references and the aggregator alike, as in `stats`:
 * `failedCalls` counts every call whose record says it failed (`error` set,
 * or an output `"[failed: …]"`). A failed aggregator is the failure that
 * matters most (the turn has no answer), so it is never left out.
 */
import type { TurnRecord } from '../record/schema.js';
import type { Usage } from '../record/usage.js';
import { StatsAccumulator, type StatsRow } from './stats.js';
import { UserTurnTracker, unrecordedNote } from './insights/user-turns.js';

export interface SessionTotals {
  /** Distinct raw session ids seen (null for records without one). */
  sessionIds: (string | null)[];
  turns: number;
  calls: number;
  failedCalls: number;
  tokens: Usage;
  /** Exact decimal sum of the known costs; null when no call's cost was known. */
  costUsd: string | null;
  /** Calls whose cost was unknown (not in the sum). */
  unknownCostCalls: number;
  firstTs: number | null;
  lastTs: number | null;
  /** The same calls grouped by model, sorted by model. */
  byModel: StatsRow[];
  /**
   * A lower bound on tool-loop iterations that ran and were not written
   * (cache HITs, see insights/user-turns.ts): when above 0, `costUsd` misses their spend.
   */
  unrecordedIterations: number;
  /** The line saying so, or null. */
  costNote: string | null;
}

export class SessionTotalsAccumulator {
  private readonly byModel = new StatsAccumulator('model');
  private readonly ids = new Set<string | null>();
  private firstTs: number | null = null;
  private lastTs: number | null = null;
  private readonly userTurns = new UserTurnTracker();
  private unrecorded = 0;

  /** `fileSession` names the session of records without a session id (the file stem). */
  add(record: TurnRecord, fileSession: string): void {
    this.byModel.add(record, fileSession);
    this.ids.add(record.session_id);
    this.unrecorded += this.userTurns.observe(record, record.session_id || fileSession).unrecorded;
    this.firstTs = this.firstTs === null ? record.ts : Math.min(this.firstTs, record.ts);
    this.lastTs = this.lastTs === null ? record.ts : Math.max(this.lastTs, record.ts);
  }

  totals(): SessionTotals {
    const total = this.byModel.totals();
    return {
      sessionIds: [...this.ids],
      turns: total.turns,
      calls: total.calls,
      failedCalls: total.failedCalls,
      tokens: total.tokens,
      // No known cost at all is "unknown", not "$0".
      costUsd: total.unknownCostCalls === total.calls ? null : total.costUsd,
      unknownCostCalls: total.unknownCostCalls,
      firstTs: this.firstTs,
      lastTs: this.lastTs,
      byModel: this.byModel.rows(),
      unrecordedIterations: this.unrecorded,
      costNote: this.unrecorded > 0 ? unrecordedNote(this.unrecorded) : null,
    };
  }
}
