/**
 * The thresholds verdicts are decided with: defaults chosen for the
 * deterministic text measures (docs/insights.md says why each), every one
 * overridable (`--threshold name=value`, or `thresholds` in the library call).
 */
import type { InsightsThresholds } from './document.js';

export const DEFAULT_THRESHOLDS: Readonly<InsightsThresholds> = Object.freeze({
  min_turns: 10,
  drop_max_unique: 0.02,
  drop_max_agreement: 0.1,
  redundant_min: 0.8,
  review_failure_rate: 0.2,
  review_straggler_share: 0.6,
  review_min_wait_ms: 500,
  keep_min_unique: 0.05,
});

export const THRESHOLD_NAMES = Object.keys(DEFAULT_THRESHOLDS) as (keyof InsightsThresholds)[];

/** Names whose value is a share (must lie in [0, 1]). */
const SHARES = new Set<keyof InsightsThresholds>([
  'drop_max_unique', 'drop_max_agreement', 'redundant_min', 'review_failure_rate', 'review_straggler_share', 'keep_min_unique',
]);

/** Parses one `name=value`; returns the pair or a one-line reason. */
export function parseThreshold(text: string): { name: keyof InsightsThresholds; value: number } | { error: string } {
  const eq = text.indexOf('=');
  const name = (eq < 0 ? text : text.slice(0, eq)).trim() as keyof InsightsThresholds;
  if (!THRESHOLD_NAMES.includes(name)) return { error: `unknown threshold "${name}" (known: ${THRESHOLD_NAMES.join(', ')})` };
  const raw = eq < 0 ? '' : text.slice(eq + 1).trim();
  const value = raw === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(value) || value < 0) return { error: `threshold ${name} expects a number ≥ 0, got "${raw}"` };
  if (SHARES.has(name) && value > 1) return { error: `threshold ${name} is a share and must be within [0, 1], got ${raw}` };
  return { name, value };
}

export function resolveThresholds(overrides: Partial<InsightsThresholds> = {}): InsightsThresholds {
  return { ...DEFAULT_THRESHOLDS, ...overrides };
}
