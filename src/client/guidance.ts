/**
 * The guidance block: one trailing user message to the aggregator carrying
 * the advisors' notes. It is a separate message (never spliced into the
 * caller's messages) so the caller's conversation reaches the aggregator
 * exactly as sent.
 */
import type { SpanContext } from '@opentelemetry/api';
import type { ChatMessage } from '../trace/types.js';
import type { CallMetering } from './call-facts.js';

export interface ReferenceOutcome {
  label: string;
  /** The configured provider and model of the slot. */
  provider: string;
  model: string;
  /** The advisor's text; null when the call failed or was skipped. */
  output: string | null;
  /** Why the call failed or was skipped (`timed out after 30000 ms`, `HTTP 500 ...`). */
  failure?: string;
  /** What the call used and cost; absent when it failed or no call was made. */
  metering?: CallMetering;
  /** No call was made: the slot names the MoA client itself. */
  skipped?: boolean;
  /** The reference's span, kept with the cached advice so a later cache HIT can link to it. */
  spanContext?: SpanContext;
}

/** What the guidance says of one reference. */
export type ReferenceNote = Pick<ReferenceOutcome, 'label' | 'output' | 'failure'>;

export interface GuidanceInput {
  preset: string;
  aggregatorLabel: string;
  references: readonly ReferenceNote[];
}

export const NO_ADVICE_TEXT = 'No advice is available for this step: every advisor failed. Continue on your own judgment.';

export function buildGuidanceMessage(input: GuidanceInput): ChatMessage {
  return { role: 'user', content: guidanceText(input) };
}

export function guidanceText({ preset, aggregatorLabel, references }: GuidanceInput): string {
  const labels = references.map((r, i) => `${i + 1}. ${r.label}`).join(', ');
  const lines = [
    `[Advisor notes — mixture-of-agents preset "${preset}"]`,
    `You (${aggregatorLabel}) are the acting assistant. Before this step, ${references.length} advisor model${references.length === 1 ? '' : 's'} (${labels}) read a text-only copy of the conversation above and sent the notes below.`,
    'The advisors could not run tools and may be wrong; weigh their notes against what you know, then continue the conversation yourself — answer the user or call tools as needed.',
    'This message comes from the orchestration layer, not from the user: do not quote it or mention the advisors in your reply.',
  ];
  const unavailable: string[] = [];
  references.forEach((r, i) => {
    const name = `Reference ${i + 1} — ${r.label}`;
    if (r.output === null) {
      unavailable.push(`${name}${r.failure ? ` (${r.failure})` : ''}`);
      return;
    }
    lines.push('', `${name}:`, r.output.trim());
  });
  if (unavailable.length === references.length) lines.push('', NO_ADVICE_TEXT);
  if (unavailable.length > 0) lines.push('', `Unavailable: ${unavailable.join('; ')}.`);
  return lines.join('\n');
}
