/**
 * The insights document as text: a terminal table (colour through a
 * palette the CLI chooses) and a Markdown summary to paste into a PR or an
 * issue. Both say, first, what may be missing from the totals.
 */
import { formatCost, formatEpochSeconds, PLAIN, plural, table, terminalSafe, type Palette } from '../format.js';
import type { InsightsDocument, ReferenceInsight, SpendTotals, Verdict } from './document.js';
import { fmtMs, pct } from './build-document.js';

/** Session rows shown in text and Markdown; the JSON document has them all. */
const MAX_SESSION_ROWS = 20;

export const REFERENCE_HEADER = ['VERDICT', 'GROUP', 'CALLS', 'FAILED', 'COST', 'SHARE', 'P50', 'P95', 'LAST', 'WAIT P50', 'AGREE', 'UNIQUE', 'SAVE/1K TURNS'];

/** The table's columns: with a judge run, its verdicts in a column of their own beside the text measures. */
export function referenceHeader(doc: InsightsDocument): string[] {
  return doc.judge ? [...REFERENCE_HEADER, 'JUDGE USED'] : REFERENCE_HEADER;
}

/** "used in 40% (2/5)" of the judged turns, or "–" when none of its turns was judged. */
export function judgeCell(r: ReferenceInsight): string {
  if (!r.judge || r.judge.turns === 0) return '–';
  return `${pct(r.judge.used_share)} (${r.judge.used}/${r.judge.turns})`;
}

/** One line on the judge run, or null without one. */
export function judgeLine(doc: InsightsDocument): string | null {
  const j = doc.judge;
  if (!j) return null;
  const parts = [`judge ${j.model}: ${j.judged_turns} of ${plural(j.sampled_turns, 'sampled turn')} judged (${j.cached_turns} from cache)`];
  if (j.failed_turns > 0) parts.push(`${j.failed_turns} failed${j.failures.length > 0 ? ` (${j.failures.join('; ')})` : ''}`);
  if (j.garbage_turns > 0) parts.push(`${j.garbage_turns} unreadable ${j.garbage_turns === 1 ? 'answer' : 'answers'}`);
  if (j.skipped_turns > 0) parts.push(`${j.skipped_turns} skipped`);
  parts.push(`${plural(j.calls, 'call')}, $${j.cost_usd} of a $${j.budget_usd} budget${j.unknown_cost_calls > 0 ? ` (+${j.unknown_cost_calls} of unknown cost)` : ''}`);
  if (j.stop_reason) parts.push(`stopped: ${j.stop_reason}`);
  return parts.join('; ');
}

export function referenceCells(r: ReferenceInsight): string[] {
  const cells = [
    r.verdict, r.key, String(r.calls), r.failures > 0 ? `${r.failures} (${pct(r.failure_rate)})` : '0', formatCost(r.cost_usd), pct(r.cost_share),
    fmtMs(r.latency_ms.p50), fmtMs(r.latency_ms.p95), pct(r.straggler_share), fmtMs(r.wait_added_ms.p50),
    pct(r.agreement), pct(r.unique_contribution), formatCost(r.saving_per_1000_turns_usd),
  ];
  if (r.judge) cells.push(judgeCell(r));
  return cells;
}

function groupNoun(doc: InsightsDocument): string {
  return doc.group_by === 'slot' ? 'reference slot' : doc.group_by;
}

function summaryLine(doc: InsightsDocument): string {
  return `${plural(doc.turns, 'iteration')} in ${plural(doc.user_turns, 'user turn')} over ${plural(doc.sessions, 'session')}; recorded spend ${formatCost(doc.spend.recorded_usd)}`;
}

function spendWarning(spend: SpendTotals): string | null {
  return spend.complete ? null : spend.note;
}

export function renderInsightsText(doc: InsightsDocument, palette: Palette = PLAIN): string {
  const out: string[] = [];
  out.push(palette.bold(`MoA insights: ${summaryLine(doc)}`));
  const warning = spendWarning(doc.spend);
  if (warning) out.push(palette.yellow(`! ${warning}`));
  if (doc.references.length === 0) {
    out.push(doc.turns === 0 ? 'no turns selected' : 'no reference calls in the selected turns');
    return `${out.join('\n')}\n`;
  }
  const colour: Record<Verdict, (s: string) => string> = { drop_candidate: palette.red, review: palette.yellow, keep: palette.green };
  out.push('');
  const rows = doc.references.map((r) => referenceCells(r).map((c, i) => (i === 1 ? terminalSafe(c) : c)));
  const lines = table(referenceHeader(doc), rows, new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13])).split('\n');
  out.push(palette.bold(lines[0] as string));
  doc.references.forEach((r, i) => {
    const line = lines[i + 1] as string;
    out.push(colour[r.verdict](r.verdict) + line.slice(r.verdict.length));
  });
  const judged = judgeLine(doc);
  if (judged) out.push('', terminalSafe(judged));
  out.push('', palette.bold('Evidence'));
  for (const r of doc.references) out.push(`  ${colour[r.verdict](r.verdict)} ${terminalSafe(r.key)}: ${terminalSafe(r.evidence)}`);

  if (doc.presets.length > 0) {
    out.push('', palette.bold('Presets'));
    out.push(table(
      ['PRESET', 'USER TURNS', 'ITERATIONS', 'SPEND', 'PER USER TURN', 'ANSWER P50', 'ANSWER P95', 'NEVER HELPED'],
      doc.presets.map((p) => [
        terminalSafe(p.preset), String(p.user_turns), String(p.iterations), formatCost(p.spend.recorded_usd) + (p.spend.unrecorded_iterations > 0 ? ' (incomplete)' : ''),
        formatCost(p.cost_per_user_turn_usd), fmtMs(p.answer_latency_ms.p50), fmtMs(p.answer_latency_ms.p95),
        p.references_never_helped.map(terminalSafe).join(', ') || '–',
      ]),
      new Set([1, 2, 3, 4, 5, 6]),
    ));
    for (const p of doc.presets) if (p.spend.note) out.push(palette.yellow(`! ${terminalSafe(p.preset)}: ${p.spend.note}`));
  }
  if (doc.session_briefs.length > 0) {
    out.push('', palette.bold('Sessions'));
    const shown = doc.session_briefs.slice(0, MAX_SESSION_ROWS);
    out.push(table(
      ['SESSION', 'PRESETS', 'USER TURNS', 'SPEND', 'LAST', 'NOTE'],
      shown.map((s) => [
        terminalSafe(s.session), s.presets.map(terminalSafe).join(', '), String(s.user_turns), formatCost(s.spend.recorded_usd),
        formatEpochSeconds(s.last_ts), s.spend.note ?? '',
      ]),
      new Set([2, 3]),
    ));
    if (doc.session_briefs.length > shown.length) out.push(palette.dim(`… ${doc.session_briefs.length - shown.length} more sessions (--json lists all)`));
  }
  out.push('', palette.dim(`${groupNoun(doc)} rows; text measures: word ${doc.text_measure.ngram}-gram containment; thresholds: ${thresholdText(doc)}`));
  if (doc.problems > 0) out.push(palette.yellow(`${plural(doc.problems, 'line')} could not be read (moa-otel validate says which)`));
  return `${out.join('\n')}\n`;
}

function thresholdText(doc: InsightsDocument): string {
  return Object.entries(doc.thresholds).map(([k, v]) => `${k}=${v}`).join(' ');
}

function md(text: string): string {
  return text.replace(/[\\|`*_[\]<>]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ');
}

export function renderInsightsMarkdown(doc: InsightsDocument): string {
  const out: string[] = ['## MoA insights', '', summaryLine(doc) + '.'];
  const warning = spendWarning(doc.spend);
  if (warning) out.push('', `> **Warning:** ${md(warning)}`);
  if (doc.references.length > 0) {
    const header = referenceHeader(doc);
    out.push('', `| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`);
    for (const r of doc.references) {
      const cells = referenceCells(r).map(md);
      cells[0] = `**${cells[0]}**`;
      out.push(`| ${cells.join(' | ')} |`);
    }
    const judged = judgeLine(doc);
    if (judged) out.push('', md(judged));
    out.push('', '**Evidence**', '');
    for (const r of doc.references) out.push(`- **${r.verdict}** \`${r.key.replace(/`/g, "'")}\`: ${md(r.evidence)}`);
  }
  if (doc.presets.length > 0) {
    out.push('', '| PRESET | USER TURNS | SPEND | PER USER TURN | ANSWER P50 | NEVER HELPED |', '| --- | ---: | ---: | ---: | ---: | --- |');
    for (const p of doc.presets) {
      out.push(`| ${md(p.preset)} | ${p.user_turns} | ${md(formatCost(p.spend.recorded_usd))} | ${md(formatCost(p.cost_per_user_turn_usd))} | ${fmtMs(p.answer_latency_ms.p50)} | ${p.references_never_helped.map(md).join(', ') || '–'} |`);
    }
    for (const p of doc.presets) if (p.spend.note) out.push('', `> **${md(p.preset)}:** ${md(p.spend.note)}`);
  }
  const incomplete = doc.session_briefs.filter((s) => !s.spend.complete).slice(0, MAX_SESSION_ROWS);
  if (incomplete.length > 0) {
    out.push('', '**Sessions with incomplete totals**', '');
    for (const s of incomplete) out.push(`- \`${s.session.replace(/`/g, "'")}\`: ${md(formatCost(s.spend.recorded_usd))} recorded; ${md(s.spend.note ?? '')}`);
  }
  out.push('', `<sub>${groupNoun(doc)} rows · word ${doc.text_measure.ngram}-gram containment · ${md(thresholdText(doc))}</sub>`);
  return `${out.join('\n')}\n`;
}
