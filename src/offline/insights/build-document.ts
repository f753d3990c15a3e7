/**
 * From merged aggregates to the `--json` document: the shares, quantiles,
 * verdicts with their one-line evidence, and the honest-spend notes.
 */
import {
  INSIGHTS_DOCUMENT_VERSION, type InsightsDocument, type InsightsThresholds, type PresetInsight, type ReferenceInsight,
  type SessionBrief, type SpendTotals, type Verdict,
} from './document.js';
import type { AnalyzeSettings, GroupData, HelpData, InsightsPartial, SpendData } from './analyze.js';
import { quantile } from './quantiles.js';
import { unrecordedNote } from './user-turns.js';
import { compareDecimal, decimalRatio, scaleDecimal } from './decimal-math.js';

const TOP_REASONS = 3;
const VERDICT_ORDER: Record<Verdict, number> = { drop_candidate: 0, review: 1, keep: 2 };


export function spendTotals(spend: SpendData): SpendTotals {
  const notes: string[] = [];
  if (spend.unrecorded > 0) notes.push(unrecordedNote(spend.unrecorded));
  if (spend.unknownCostCalls > 0) notes.push(`${spend.unknownCostCalls} ${spend.unknownCostCalls === 1 ? 'call' : 'calls'} of unknown cost not in the sum`);
  return {
    recorded_usd: spend.cost,
    unrecorded_iterations: spend.unrecorded,
    unknown_cost_calls: spend.unknownCostCalls,
    complete: notes.length === 0,
    note: notes.length > 0 ? notes.join('; ') : null,
  };
}

export function buildDocument(partial: InsightsPartial, settings: AnalyzeSettings, thresholds: InsightsThresholds): InsightsDocument {
  const references = referenceInsights(partial, thresholds);
  return {
    version: INSIGHTS_DOCUMENT_VERSION,
    turns: partial.turns,
    user_turns: partial.userTurns,
    sessions: Object.keys(partial.sessions).length,
    spend: spendTotals(partial.spend),
    group_by: settings.groupBy,
    filters: { since: settings.since, until: settings.until, presets: [...settings.presets], sessions: [...settings.sessions] },
    thresholds,
    text_measure: { method: 'containment', ngram: settings.ngram },
    references,
    presets: Object.values(partial.presets)
      .sort((a, b) => a.preset.localeCompare(b.preset))
      .map((p): PresetInsight => ({
        preset: p.preset,
        iterations: p.iterations,
        user_turns: p.userTurns,
        spend: spendTotals(p.spend),
        cost_per_user_turn_usd: p.userTurns > 0 ? scaleDecimal(p.spend.cost, 1, p.userTurns) : null,
        answer_latency_ms: { p50: quantile(p.answerLatency, 0.5), p95: quantile(p.answerLatency, 0.95) },
        references_never_helped: neverHelped(p.slots),
      })),
    session_briefs: Object.values(partial.sessions)
      .sort((a, b) => a.session.localeCompare(b.session))
      .map((s): SessionBrief => ({
        session: s.session,
        presets: [...s.presets].sort(),
        iterations: s.iterations,
        user_turns: s.userTurns,
        spend: spendTotals(s.spend),
        first_ts: s.firstTs,
        last_ts: s.lastTs,
        references_never_helped: neverHelped(s.slots),
      })),
    problems: partial.problems,
  };
}

function neverHelped(slots: HelpData): string[] {
  return Object.entries(slots).filter(([, h]) => h.measured > 0 && h.helped === 0).map(([key]) => key).sort();
}

type Draft = Omit<ReferenceInsight, 'verdict' | 'evidence'>;

function referenceInsights(partial: InsightsPartial, t: InsightsThresholds): ReferenceInsight[] {
  const groups = Object.values(partial.groups);
  const drafts = new Map(groups.map((g) => [g.key, draftOf(g, partial.spend.cost, t)]));
  // Redundant pairs: the more expensive of two that repeat each other is the one to drop.
  const byCost = [...drafts.values()].sort((a, b) => compareDecimal(b.cost_usd, a.cost_usd) || a.key.localeCompare(b.key));
  const dropped = new Set<string>();
  const verdicts = new Map<string, { verdict: Verdict; evidence: string }>();
  for (const d of byCost) {
    const decided = decide(d, t, dropped, drafts);
    if (decided.verdict === 'drop_candidate') dropped.add(d.key);
    verdicts.set(d.key, decided);
  }
  // A group whose low uniqueness only comes from a dropped repeater carries that content: keep it.
  for (const d of byCost) {
    const v = verdicts.get(d.key);
    if (!v || v.verdict === 'drop_candidate') continue;
    const repeaters = [...dropped].filter((k) => drafts.get(k)?.redundant_with.includes(d.key));
    if (repeaters.length > 0 && v.evidence.startsWith('low unique') && (d.agreement ?? 0) >= t.drop_max_agreement) {
      verdicts.set(d.key, { verdict: 'keep', evidence: `carries what ${repeaters.join(', ')} repeats: agreement ${pct(d.agreement)}, ${pct(d.cost_share)} of spend` });
    }
  }
  return byCost
    .map((d): ReferenceInsight => ({ ...d, ...(verdicts.get(d.key) as { verdict: Verdict; evidence: string }) }))
    .sort((a, b) => VERDICT_ORDER[a.verdict] - VERDICT_ORDER[b.verdict] || compareDecimal(b.cost_usd, a.cost_usd) || a.key.localeCompare(b.key));
}

function draftOf(g: GroupData, totalSpend: string, t: InsightsThresholds): Draft {
  const redundancy = Object.entries(g.redundancy)
    .filter(([, r]) => r.turns > 0)
    .map(([key, r]) => ({ key, share: round(r.sum / r.turns), turns: r.turns }))
    .sort((a, b) => b.share - a.share || a.key.localeCompare(b.key));
  return {
    key: g.key,
    preset: valueOf(g.preset),
    label: valueOf(g.label),
    model: valueOf(g.model),
    provider: valueOf(g.provider),
    calls: g.calls,
    failures: g.failures,
    failure_rate: g.calls > 0 ? round(g.failures / g.calls) : null,
    top_failure_reasons: Object.entries(g.reasons)
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason))
      .slice(0, TOP_REASONS),
    tokens: { ...g.tokens },
    cost_usd: g.cost,
    unknown_cost_calls: g.unknownCostCalls,
    cost_share: decimalRatio(g.cost, totalSpend),
    latency_ms: { p50: quantile(g.latency, 0.5), p95: quantile(g.latency, 0.95) },
    straggler_turns: g.stragglerTurns,
    straggler_share: g.stragglerTurns > 0 ? round(g.stragglerLast / g.stragglerTurns) : null,
    wait_added_ms: { p50: quantile(g.wait, 0.5), p95: quantile(g.wait, 0.95), total: g.waitTotal },
    measured_turns: g.measured,
    agreement: g.measured > 0 ? round(g.agreementSum / g.measured) : null,
    unique_contribution: g.measured > 0 ? round(g.uniqueSum / g.measured) : null,
    redundant_with: redundancy.filter((r) => r.share >= t.redundant_min).map((r) => r.key),
    redundancy,
    saving_per_1000_turns_usd: scaleDecimal(g.cost, 1000, g.userTurns),
  };
}

/**
 * The rules, first match wins (docs/insights.md "Verdicts"):
 * too little evidence → review; useless or redundant → drop_candidate;
 * failing or straggling → review; a real unique contribution → keep;
 * anything else → review.
 */
function decide(d: Draft, t: InsightsThresholds, dropped: ReadonlySet<string>, drafts: ReadonlyMap<string, Draft>): { verdict: Verdict; evidence: string } {
  const spend = `${pct(d.cost_share)} of spend`;
  const failing = d.failure_rate !== null && d.failure_rate >= t.review_failure_rate;
  const failures = failing ? `fails ${pct(d.failure_rate)} (${d.failures}/${d.calls})${reasonsText(d)}` : '';
  if (d.measured_turns < t.min_turns) {
    return { verdict: 'review', evidence: [`only ${d.measured_turns} measured turns (min_turns ${t.min_turns})`, failures, spend].filter(Boolean).join('; ') };
  }
  const unique = d.unique_contribution ?? 0;
  const agreement = d.agreement ?? 0;
  if (unique <= t.drop_max_unique) {
    if (agreement < t.drop_max_agreement) {
      return { verdict: 'drop_candidate', evidence: `the answer does not use it: agreement ${pct(agreement)}, unique ${pct(unique)} over ${d.measured_turns} turns; ${spend}${failures ? `; ${failures}` : ''}` };
    }
    const repeats = d.redundancy.filter((r) => r.share >= t.redundant_min && !dropped.has(r.key) && drafts.has(r.key));
    if (repeats.length > 0) {
      const top = repeats[0] as { key: string; share: number };
      return { verdict: 'drop_candidate', evidence: `repeats ${top.key} (${pct(top.share)} of its text found there), unique ${pct(unique)}; ${spend}` };
    }
  }
  if (failing) return { verdict: 'review', evidence: `${failures}; unique ${pct(unique)}; ${spend}` };
  const waitP50 = d.wait_added_ms.p50 ?? 0;
  if (d.straggler_share !== null && d.straggler_share >= t.review_straggler_share && waitP50 >= t.review_min_wait_ms) {
    return { verdict: 'review', evidence: `last to finish in ${pct(d.straggler_share)} of ${d.straggler_turns} turns, +${fmtMs(waitP50)} p50 wait (${fmtMs(d.wait_added_ms.total)} total); unique ${pct(unique)}; ${spend}` };
  }
  if (unique >= t.keep_min_unique) return { verdict: 'keep', evidence: `unique ${pct(unique)}, agreement ${pct(agreement)} over ${d.measured_turns} turns; ${spend}` };
  return { verdict: 'review', evidence: `low unique contribution ${pct(unique)} (agreement ${pct(agreement)}); ${spend}` };
}

function reasonsText(d: Draft): string {
  return d.top_failure_reasons.length > 0 ? `: ${d.top_failure_reasons.map((r) => `${r.reason} ×${r.count}`).join(', ')}` : '';
}

function valueOf(seen: GroupData['preset']): string | null {
  return seen && !seen.mixed ? seen.value : null;
}

/** Shares to 6 places: stable text in JSON, far finer than the measures. */
function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

export function pct(share: number | null): string {
  if (share === null) return '–';
  const p = share * 100;
  return `${p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

export function fmtMs(ms: number | null): string {
  if (ms === null) return '–';
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 2)} s` : `${Math.round(ms)} ms`;
}
