/**
 * Inline SVG bar charts: tokens per model (stacked by bucket) and cost per
 * model. No scripts and no external resources, so the page works offline.
 */
import { escapeHtml } from './escape.js';
import type { StatsRow } from '../stats.js';
import { clip, formatCost, formatInt } from '../format.js';
import { totalTokens } from '../../record/usage.js';

const ROW_HEIGHT = 26;
const LABEL_WIDTH = 220;
const BAR_WIDTH = 420;
const VALUE_WIDTH = 170;
const LABEL_CHARS = 30;

const BUCKETS = [
  { key: 'inputTokens', label: 'input (uncached)', color: '#4e79a7' },
  { key: 'cacheReadTokens', label: 'cache read', color: '#a0cbe8' },
  { key: 'cacheWriteTokens', label: 'cache write', color: '#f28e2b' },
  { key: 'outputTokens', label: 'output', color: '#59a14f' },
] as const;

export function tokensChart(rows: readonly StatsRow[]): string {
  const max = Math.max(1, ...rows.map((r) => totalTokens(r.tokens)));
  const height = rows.length * ROW_HEIGHT + 34;
  const bars = rows.map((row, i) => {
    const y = i * ROW_HEIGHT;
    let x = LABEL_WIDTH;
    const segments = BUCKETS.map((b) => {
      const value = row.tokens[b.key];
      const w = (value / max) * BAR_WIDTH;
      const rect = w > 0 ? `<rect x="${x.toFixed(1)}" y="${y + 4}" width="${w.toFixed(1)}" height="${ROW_HEIGHT - 8}" fill="${b.color}"><title>${escapeHtml(`${row.key}: ${b.label} ${formatInt(value)}`)}</title></rect>` : '';
      x += w;
      return rect;
    }).join('');
    return `<g class="row"><text x="${LABEL_WIDTH - 8}" y="${y + ROW_HEIGHT / 2 + 4}" text-anchor="end">${escapeHtml(clip(row.key, LABEL_CHARS))}</text>${segments}`
      + `<text x="${LABEL_WIDTH + BAR_WIDTH + 8}" y="${y + ROW_HEIGHT / 2 + 4}">${formatInt(totalTokens(row.tokens))}</text></g>`;
  }).join('');
  const legend = BUCKETS.map((b, i) => `<rect x="${LABEL_WIDTH + i * 120}" y="${rows.length * ROW_HEIGHT + 14}" width="10" height="10" fill="${b.color}"/>`
    + `<text x="${LABEL_WIDTH + i * 120 + 14}" y="${rows.length * ROW_HEIGHT + 23}">${escapeHtml(b.label)}</text>`).join('');
  return svg('Tokens per model', height, bars + legend);
}

export function costChart(rows: readonly StatsRow[]): string {
  const values = rows.map((r) => Number(r.costUsd));
  // Never 0, so a row's share is always defined.
  const max = Math.max(Number.MIN_VALUE, ...values.filter(Number.isFinite));
  const height = rows.length * ROW_HEIGHT + 10;
  const bars = rows.map((row, i) => {
    const y = i * ROW_HEIGHT;
    const value = values[i] ?? 0;
    const w = value > 0 ? (value / max) * BAR_WIDTH : 0;
    const unknown = row.unknownCostCalls > 0 ? ` (+${row.unknownCostCalls} unknown)` : '';
    return `<g class="row"><text x="${LABEL_WIDTH - 8}" y="${y + ROW_HEIGHT / 2 + 4}" text-anchor="end">${escapeHtml(clip(row.key, LABEL_CHARS))}</text>`
      + `<rect x="${LABEL_WIDTH}" y="${y + 4}" width="${w.toFixed(1)}" height="${ROW_HEIGHT - 8}" fill="#b07aa1"><title>${escapeHtml(`${row.key}: ${formatCost(row.costUsd)}`)}</title></rect>`
      + `<text x="${LABEL_WIDTH + BAR_WIDTH + 8}" y="${y + ROW_HEIGHT / 2 + 4}">${escapeHtml(formatCost(row.costUsd) + unknown)}</text></g>`;
  }).join('');
  return svg('Cost per model (USD)', height, bars);
}

function svg(title: string, height: number, body: string): string {
  const width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH;
  return `<figure class="chart"><figcaption>${escapeHtml(title)}</figcaption>`
    + `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${body}</svg></figure>`;
}
