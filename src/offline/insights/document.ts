/**
 * The `moa-otel insights --json` document: a stable contract for scripts,
 * the HTML report and anything else that reads what insights found.
 * Documented field by field in docs/insights.md; changes are additive only
 * (a removed or re-meant field bumps `version`).
 *
 * Conventions: keys are snake_case; costs are exact decimal strings (the
 * sums of `src/record/decimal.ts`, never floats); shares are numbers in
 * [0, 1]; durations are milliseconds; a value that could not be measured is
 * null, never 0 or NaN.
 */

export const INSIGHTS_DOCUMENT_VERSION = 1;

export const VERDICTS = ['keep', 'review', 'drop_candidate'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** What a row of `references` stands for: a reference slot (preset + label, default), a model, a preset or a UTC day. */
export const INSIGHTS_GROUPS = ['slot', 'model', 'preset', 'day'] as const;
export type InsightsGroupBy = (typeof INSIGHTS_GROUPS)[number];

/** Milliseconds at two quantiles; null when nothing was measured. */
export interface Quantiles {
  p50: number | null;
  p95: number | null;
}

/** The wait a straggler added: quantiles over the turns it finished last, and the sum over them. */
export interface WaitAdded extends Quantiles {
  total: number;
}

export interface FailureReasonCount {
  reason: string;
  count: number;
}

/** Tokens in the JSONL convention: `input` is the UNCACHED input. */
export interface TokenTotals {
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
  reasoning: number;
}

/**
 * Spend of a set of turns, with what may be missing from it. `complete` is
 * false and `note` says why whenever the sum may undercount.
 */
export interface SpendTotals {
  /** Exact decimal sum of every known call cost (references and aggregators). */
  recorded_usd: string;
  /** A LOWER BOUND on the iterations that ran and were not written (cache HITs of a tool loop). */
  unrecorded_iterations: number;
  /** Calls whose cost was unknown (not in the sum). */
  unknown_cost_calls: number;
  complete: boolean;
  /** One line for humans, e.g. "≥ 3 iterations not recorded; their spend is missing — set trace_cache_hits"; null when complete. */
  note: string | null;
}

/**
 * The thresholds a verdict was decided with (defaults documented in
 * docs/insights.md; `--threshold name=value` overrides).
 */
export interface InsightsThresholds {
  /** Below this many measured turns a slot is `review` (too little evidence to drop or keep). */
  min_turns: number;
  /** Unique contribution below this (and agreement below `drop_max_agreement`, or redundant) makes a `drop_candidate`. */
  drop_max_unique: number;
  /** Agreement below this (with low unique contribution) means the answer does not use the reference. */
  drop_max_agreement: number;
  /** Containment of this slot's output in another slot's output at or above this makes it redundant with that slot. */
  redundant_min: number;
  /** Failure rate at or above this makes a slot at least `review`. */
  review_failure_rate: number;
  /** Straggler share at or above this, with a median wait added of at least `review_min_wait_ms`, makes a slot at least `review`. */
  review_straggler_share: number;
  review_min_wait_ms: number;
  /** Unique contribution at or above this, with failures below the rate above, is a `keep`. */
  keep_min_unique: number;
}

/** One row per group (by default a reference slot: preset + label). */
export interface ReferenceInsight {
  /** The group key: "preset/label" for slots, else the model, preset or YYYY-MM-DD. */
  key: string;
  /** Null when the group spans several (e.g. grouped by model across presets). */
  preset: string | null;
  label: string | null;
  model: string | null;
  provider: string | null;
  /** Reference calls made (failed ones included). */
  calls: number;
  failures: number;
  /** failures / calls; null without calls. */
  failure_rate: number | null;
  /** The most frequent failure reasons, most frequent first (at most 3). */
  top_failure_reasons: FailureReasonCount[];
  tokens: TokenTotals;
  /** Exact decimal sum of this group's known call costs. */
  cost_usd: string;
  unknown_cost_calls: number;
  /** cost_usd / the selected turns' recorded spend (references + aggregators); null when that spend is 0. */
  cost_share: number | null;
  latency_ms: Quantiles;
  /** Turns with at least two timed references in which this group took part (the straggler denominator). */
  straggler_turns: number;
  /** Share of those turns in which it finished last; null when straggler_turns is 0. */
  straggler_share: number | null;
  /** Its end minus the next-latest reference's end, over the turns it finished last. */
  wait_added_ms: WaitAdded;
  /** Turns in which both the final answer and this group's output had n-grams to compare. */
  measured_turns: number;
  /** Mean over measured turns of the share of the answer's n-grams found in this output. */
  agreement: number | null;
  /** Mean over measured turns of the share of the answer's n-grams found in this output and in no other reference's. */
  unique_contribution: number | null;
  /** Keys of the groups this one repeats (mean containment ≥ thresholds.redundant_min). */
  redundant_with: string[];
  /** Mean containment of this group's output in each other group's output of the same turns, highest first. */
  redundancy: { key: string; share: number; turns: number }[];
  verdict: Verdict;
  /** The evidence for the verdict, one line. */
  evidence: string;
  /** cost_usd per 1,000 user turns of the preset(s) this group ran in: what dropping it would save. */
  saving_per_1000_turns_usd: string;
  /** Only with `--judge`: what the judge model said, beside (never instead of) the text measures. */
  judge?: ReferenceJudgement;
}

/** A group's share of the judged turns in which the judge said the final answer used it. */
export interface ReferenceJudgement {
  /** Judged turns (valid verdicts) in which this group gave an output. */
  turns: number;
  /** Of those, the turns whose final answer the judge said used it. */
  used: number;
  /** used / turns; null when turns is 0. */
  used_share: number | null;
}

/** Only with `--judge`: how the judge run went. Verdicts from earlier runs come from the cache at no cost. */
export interface JudgeSummary {
  /** "provider:model" as given. */
  model: string;
  /** Changes whenever the judge's prompt or answer format changes (cached verdicts of another version are not reused). */
  prompt_version: number;
  /** Turns picked for judging (a deterministic sample of the selected turns that have a final answer and a reference output). */
  sampled_turns: number;
  /** Turns with a valid verdict (from a call or the cache). */
  judged_turns: number;
  /** Of the judged turns, those answered from the cache. */
  cached_turns: number;
  /** The judge call failed (HTTP error, timeout): no verdict, not cached. */
  failed_turns: number;
  /** The judge answered something that is not a verdict: recorded, cached, not counted. */
  garbage_turns: number;
  /** Turns not judged because the next call could have exceeded the budget. */
  skipped_turns: number;
  /** Judge calls made by this run. */
  calls: number;
  /** Exact decimal cost of those calls (priced as the client prices calls). */
  cost_usd: string;
  /** Calls whose cost is unknown: the budget cannot account for them, so judging stopped after the first. */
  unknown_cost_calls: number;
  budget_usd: string;
  /** True when judging stopped before the sample was done (budget, or a cost it could not know). */
  stopped: boolean;
  /** Why it stopped, one line; null when it did not. */
  stop_reason: string | null;
  /** The first failure reasons seen (at most 3), secrets masked. */
  failures: string[];
}

export interface PresetInsight {
  preset: string;
  /** Records (iterations) written. */
  iterations: number;
  /** User turns (iterations grouped, see docs/insights.md). */
  user_turns: number;
  spend: SpendTotals;
  /** recorded spend / user_turns, tool-loop iterations included; exact decimal, null without user turns. */
  cost_per_user_turn_usd: string | null;
  /** First iteration start to the final answer's end, per user turn. */
  answer_latency_ms: Quantiles;
  /** Reference labels of this preset whose unique contribution was 0 in every measured turn. */
  references_never_helped: string[];
}

/** A session in brief. */
export interface SessionBrief {
  /** The session id, or the file stem for records without one. */
  session: string;
  presets: string[];
  iterations: number;
  user_turns: number;
  spend: SpendTotals;
  first_ts: number | null;
  last_ts: number | null;
  /** Slot keys ("preset/label") whose unique contribution was 0 in every measured turn of this session. */
  references_never_helped: string[];
}

export interface InsightsFilters {
  /** Epoch seconds, inclusive; null when not set. */
  since: number | null;
  until: number | null;
  presets: string[];
  sessions: string[];
}

export interface InsightsDocument {
  version: typeof INSIGHTS_DOCUMENT_VERSION;
  /** Records (MoA iterations) selected. */
  turns: number;
  /** User turns (iterations grouped by user message). */
  user_turns: number;
  /** Distinct sessions selected. */
  sessions: number;
  spend: SpendTotals;
  group_by: InsightsGroupBy;
  filters: InsightsFilters;
  thresholds: InsightsThresholds;
  /** How the text measures were computed. */
  text_measure: { method: 'containment'; ngram: number };
  /** Sorted by what to act on first: drop candidates, then reviews, then keeps; within each, by cost. */
  references: ReferenceInsight[];
  presets: PresetInsight[];
  session_briefs: SessionBrief[];
  /** Lines that could not be read (bad JSON, not a record). */
  problems: number;
  /** Only with `--judge`. */
  judge?: JudgeSummary;
}
