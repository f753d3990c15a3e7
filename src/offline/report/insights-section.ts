/**
 * The report's insights section: the `moa-otel insights` document as HTML —
 * the same reference and preset tables as the terminal (the cells come from
 * the same function, so the two never disagree), the "possibly incomplete"
 * spend notice, and two inline SVG charts: cost share against unique
 * contribution per slot (what an advisor costs next to what only it gave the
 * answer) and the straggler share with the wait it added.
 *
 * Every number cell also carries the document's raw value in `data-value`,
 * so a reader (or a test) can check the page against `insights --json`.
 */
import { formatCost, plural } from '../format.js';
import type { InsightsDocument, ReferenceInsight } from '../insights/document.js';
import { fmtMs, pct } from '../insights/build-document.js';
import { judgeLine, referenceCells, referenceHeader } from '../insights/render.js';
import { clip } from '../format.js';
import { escapeHtml } from './escape.js';

const ROW = 34;
const LABEL = 220;
const TRACK = 400;
const VALUE = 190;
const LABEL_CHARS = 30;
const COST_COLOR = '#b07aa1';
const UNIQUE_COLOR = '#59a14f';
const STRAGGLER_COLOR = '#e15759';

/** Raw values of the reference row, in referenceHeader order (null where the cell is text). */
function rawValues(r: ReferenceInsight): (string | number | null)[] {
  return [
    r.verdict, r.key, r.calls, r.failures, r.cost_usd, r.cost_share, r.latency_ms.p50, r.latency_ms.p95,
    r.straggler_share, r.wait_added_ms.p50, r.agreement, r.unique_contribution, r.saving_per_1000_turns_usd,
    ...(r.judge ? [r.judge.used_share] : []),
  ];
}

function cell(tag: 'td' | 'th', text: string, raw?: string | number | null, numeric = false): string {
  const data = raw === undefined ? '' : ` data-value="${escapeHtml(raw === null ? '' : String(raw))}"`;
  return `<${tag}${numeric ? ' class="num"' : ''}${data}>${escapeHtml(text)}</${tag}>`;
}

function referencesTable(doc: InsightsDocument): string {
  const head = `<tr>${referenceHeader(doc).map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr>`;
  const rows = doc.references.map((r) => {
    const texts = referenceCells(r);
    const raws = rawValues(r);
    const cells = texts.map((text, i) => (i === 1
      ? `<th scope="row" data-value="${escapeHtml(r.key)}">${escapeHtml(text)}</th>`
      : cell('td', text, raws[i], i >= 2)));
    return `<tr class="verdict-${r.verdict}" data-key="${escapeHtml(r.key)}">${cells.join('')}</tr>`;
  }).join('\n');
  return `<table class="insights references" id="insights-references"><caption>Per ${escapeHtml(groupNoun(doc))}, what to act on first at the top</caption><thead>${head}</thead><tbody>\n${rows}\n</tbody></table>`;
}

function judgeNote(doc: InsightsDocument): string {
  const line = judgeLine(doc);
  return line ? `<p class="note" id="insights-judge">${escapeHtml(line)}</p>` : '';
}

function evidenceList(doc: InsightsDocument): string {
  return `<ul class="evidence">${doc.references.map((r) => `<li><b class="verdict ${r.verdict}">${escapeHtml(r.verdict)}</b> <code>${escapeHtml(r.key)}</code>: ${escapeHtml(r.evidence)}</li>`).join('')}</ul>`;
}

function presetsTable(doc: InsightsDocument): string {
  if (doc.presets.length === 0) return '';
  const head = ['PRESET', 'USER TURNS', 'ITERATIONS', 'SPEND', 'PER USER TURN', 'ANSWER P50', 'ANSWER P95', 'NEVER HELPED'];
  const rows = doc.presets.map((p) => `<tr data-preset="${escapeHtml(p.preset)}"><th scope="row">${escapeHtml(p.preset)}</th>`
    + cell('td', String(p.user_turns), p.user_turns, true) + cell('td', String(p.iterations), p.iterations, true)
    + cell('td', formatCost(p.spend.recorded_usd) + (p.spend.complete ? '' : ' (incomplete)'), p.spend.recorded_usd, true)
    + cell('td', formatCost(p.cost_per_user_turn_usd), p.cost_per_user_turn_usd, true)
    + cell('td', fmtMs(p.answer_latency_ms.p50), p.answer_latency_ms.p50, true) + cell('td', fmtMs(p.answer_latency_ms.p95), p.answer_latency_ms.p95, true)
    + cell('td', p.references_never_helped.join(', ') || '–')
    + '</tr>').join('\n');
  const notes = doc.presets.filter((p) => p.spend.note).map((p) => `<p class="notice" role="note">${escapeHtml(`${p.preset}: ${p.spend.note ?? ''}`)}</p>`).join('');
  return `<table class="insights presets" id="insights-presets"><caption>Per preset</caption><thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead><tbody>\n${rows}\n</tbody></table>${notes}`;
}

function groupNoun(doc: InsightsDocument): string {
  return doc.group_by === 'slot' ? 'reference slot' : doc.group_by;
}

/** A 0–100 % horizontal axis with grid lines at each quarter. */
function axis(top: number, bottom: number): string {
  return [0, 0.25, 0.5, 0.75, 1].map((q) => {
    const x = LABEL + q * TRACK;
    return `<line class="grid" x1="${x}" y1="${top}" x2="${x}" y2="${bottom}"/><text class="tick" x="${x}" y="${bottom + 14}" text-anchor="middle">${q * 100}%</text>`;
  }).join('');
}

function bar(y: number, h: number, share: number | null, color: string, title: string): string {
  const w = share === null ? 0 : Math.max(0, Math.min(1, share)) * TRACK;
  return `<rect x="${LABEL}" y="${y}" width="${w.toFixed(1)}" height="${h}" fill="${color}"><title>${escapeHtml(title)}</title></rect>`;
}

function figure(id: string, title: string, description: string, height: number, body: string, legend: string): string {
  const width = LABEL + TRACK + VALUE;
  return `<figure class="chart insights-chart" id="${id}"><figcaption>${escapeHtml(title)}</figcaption>`
    + `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="${id}-title ${id}-desc" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">`
    + `<title id="${id}-title">${escapeHtml(title)}</title><desc id="${id}-desc">${escapeHtml(description)}</desc>${body}${legend}</svg></figure>`;
}

function legendItems(y: number, items: readonly [string, string][]): string {
  return items.map(([color, label], i) => `<rect x="${LABEL + i * 170}" y="${y}" width="10" height="10" fill="${color}"/>`
    + `<text x="${LABEL + i * 170 + 14}" y="${y + 9}">${escapeHtml(label)}</text>`).join('');
}

/** Per slot, two bars on one 0–100 % axis: its share of the spend, and the share of the answer only it gave. */
export function costVsContributionChart(refs: readonly ReferenceInsight[]): string {
  const rows = refs.map((r, i) => {
    const y = i * ROW + 4;
    const cost = `${r.key}: ${pct(r.cost_share)} of the spend (${formatCost(r.cost_usd)})`;
    const unique = `${r.key}: unique contribution ${pct(r.unique_contribution)} of the answer`;
    return `<g class="slot" data-key="${escapeHtml(r.key)}" data-cost-share="${r.cost_share ?? ''}" data-unique="${r.unique_contribution ?? ''}">`
      + `<text x="${LABEL - 8}" y="${y + 17}" text-anchor="end">${escapeHtml(clip(r.key, LABEL_CHARS))}</text>`
      + bar(y + 2, 12, r.cost_share, COST_COLOR, cost) + bar(y + 15, 12, r.unique_contribution, UNIQUE_COLOR, unique)
      + `<text x="${LABEL + TRACK + 8}" y="${y + 17}">${escapeHtml(`cost ${pct(r.cost_share)} · unique ${pct(r.unique_contribution)}`)}</text></g>`;
  }).join('');
  const bottom = refs.length * ROW + 4;
  const description = refs.map((r) => `${r.key}: cost share ${pct(r.cost_share)}, unique contribution ${pct(r.unique_contribution)}, verdict ${r.verdict}`).join('; ');
  return figure('insights-cost-vs-unique', 'Cost share vs unique contribution per slot', description, bottom + 44,
    axis(0, bottom) + rows, legendItems(bottom + 26, [[COST_COLOR, 'share of the spend'], [UNIQUE_COLOR, 'unique contribution']]));
}

/** Per slot: the share of turns it finished last among the references, with the median and total wait it added. */
export function stragglerChart(refs: readonly ReferenceInsight[]): string {
  const rows = refs.map((r, i) => {
    const y = i * ROW + 4;
    const wait = r.straggler_share !== null && r.straggler_share > 0 ? ` · wait p50 ${fmtMs(r.wait_added_ms.p50)}, total ${fmtMs(r.wait_added_ms.total)}` : '';
    const text = r.straggler_share === null ? 'not measured' : `last in ${pct(r.straggler_share)} of ${plural(r.straggler_turns, 'turn')}${wait}`;
    return `<g class="slot" data-key="${escapeHtml(r.key)}" data-straggler-share="${r.straggler_share ?? ''}">`
      + `<text x="${LABEL - 8}" y="${y + 17}" text-anchor="end">${escapeHtml(clip(r.key, LABEL_CHARS))}</text>`
      + bar(y + 6, 18, r.straggler_share, STRAGGLER_COLOR, `${r.key}: ${text}`)
      + `<text x="${LABEL + TRACK + 8}" y="${y + 17}">${escapeHtml(pct(r.straggler_share))}</text></g>`;
  }).join('');
  const bottom = refs.length * ROW + 4;
  const description = refs.map((r) => `${r.key}: finished last in ${pct(r.straggler_share)} of turns, median wait added ${fmtMs(r.wait_added_ms.p50)}`).join('; ');
  return figure('insights-stragglers', 'Straggler: share of turns each slot finished last', description, bottom + 24, axis(0, bottom) + rows, '');
}

/** The whole section; empty references still show the summary (and the notice, when the spend may be incomplete). */
export function insightsSection(doc: InsightsDocument): string {
  const summary = `${plural(doc.turns, 'iteration')} in ${plural(doc.user_turns, 'user turn')}; recorded spend `
    + `${formatCost(doc.spend.recorded_usd)}${doc.spend.complete ? '' : ' (possibly incomplete)'}`;
  const notice = doc.spend.note ? `<p class="notice" role="note" id="insights-spend-notice">${escapeHtml(doc.spend.note)}</p>` : '';
  const body = doc.references.length === 0
    ? '<p class="note">No reference calls in these turns.</p>'
    : `<div class="charts">${costVsContributionChart(doc.references)}${stragglerChart(doc.references)}</div>`
      + `<div class="table-wrap">${referencesTable(doc)}</div>${judgeNote(doc)}${evidenceList(doc)}`;
  const footer = `<p class="note">Agreement and unique contribution are word ${doc.text_measure.ngram}-gram containment of the final answer; `
    + 'see docs/insights.md for the measures and the verdict thresholds.</p>';
  return `<section class="insights" id="insights" aria-labelledby="insights-title">
<h2 id="insights-title">Insights: which advisor is worth its cost</h2>
<div class="muted" data-recorded-usd="${escapeHtml(doc.spend.recorded_usd)}">${escapeHtml(summary)}</div>
${notice}${body}
<div class="table-wrap">${presetsTable(doc)}</div>
${footer}
</section>
`;
}
