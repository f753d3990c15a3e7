/**
 * Live insights (opt-in, `insights_live: true`): when the aggregator's answer
 * is in, each reference's agreement with it and unique contribution to it —
 * the same word n-gram measures as `moa-otel insights` — as attributes on
 * the aggregator span and as a histogram by reference label, so a backend
 * shows them without the offline command.
 *
 * They are computed as the aggregator's call ends, before its span does, so
 * the cost is bounded hard: one n-gram pass over at most LIVE_MAX_TEXT_CHARS
 * of each text (about 1 ms for a 10 KB turn, under 10 ms for any turn;
 * `bench/live-insights.ts`). Longer texts are measured on their beginning,
 * so there the live figures approximate the offline ones (which read
 * 200,000 characters). Deferring the work past the span's end would leave
 * the turn's root open across the caller's shutdown or exit, where the
 * JSONL sink could write it as partial: a worse trade than a bounded cost.
 */
import type { Attributes } from '@opentelemetry/api';
import { attributeAnswer, DEFAULT_NGRAM_SIZE, ngramSet } from '../content/text-overlap.js';
import { MOA_INSIGHTS_REFERENCE_PREFIX } from './attributes.js';

/** A reference that answered: its index in the turn (when the caller gave one), its label, its text. */
export interface LiveReference {
  index: number | undefined;
  label: string;
  output: string;
}

export interface LiveInsight {
  /** The reference's index, else its position among the references that answered. */
  index: number;
  label: string;
  /** Null when the answer has no n-gram to compare. */
  agreement: number | null;
  unique: number | null;
}

/** Characters of each text (answer and every reference) measured live. */
export const LIVE_MAX_TEXT_CHARS = 20_000;

export function liveInsights(answer: string, references: readonly LiveReference[]): LiveInsight[] {
  const options = { n: DEFAULT_NGRAM_SIZE, maxChars: LIVE_MAX_TEXT_CHARS };
  const attribution = attributeAnswer(ngramSet(answer, options), references.map((r) => ngramSet(r.output, options)));
  return references.map((r, i) => ({
    index: r.index ?? i,
    label: r.label,
    agreement: attribution.agreement[i] ?? null,
    unique: attribution.unique[i] ?? null,
  }));
}

/** `moa.insights.reference.<index>.{label,agreement,unique_contribution}`; shares rounded to 4 decimals. */
export function liveInsightAttributes(insights: readonly LiveInsight[]): Attributes {
  const attributes: Attributes = {};
  for (const insight of insights) {
    const prefix = `${MOA_INSIGHTS_REFERENCE_PREFIX}${insight.index}.`;
    attributes[`${prefix}label`] = insight.label;
    if (insight.agreement !== null) attributes[`${prefix}agreement`] = round(insight.agreement);
    if (insight.unique !== null) attributes[`${prefix}unique_contribution`] = round(insight.unique);
  }
  return attributes;
}

function round(share: number): number {
  return Math.round(share * 10_000) / 10_000;
}
