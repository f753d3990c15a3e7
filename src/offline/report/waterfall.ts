/**
 * A turn's calls on one time axis (inline SVG): the references side by side
 * in time, then the aggregator. Times are the record's own; a record without
 * timings (original files) shows the synthesized order and says so.
 */
import type { TurnRecord } from '../../record/schema.js';
import { clip, formatDuration } from '../format.js';
import { turnTimes, type Interval } from '../replay-times.js';
import type { CallSummary } from '../summary.js';
import { escapeHtml } from './escape.js';

const ROW = 22;
const LABEL = 240;
const TRACK = 520;
const RIGHT = 90;
const LABEL_CHARS = 34;

function hasRealTimings(record: TurnRecord): boolean {
  const timed = (c: { started_at?: number | null; ended_at?: number | null; duration_ms?: number | null }) =>
    (typeof c.started_at === 'number' && typeof c.ended_at === 'number') || typeof c.duration_ms === 'number';
  return record.references.some(timed) || timed(record.aggregator);
}

export function waterfall(record: TurnRecord, calls: readonly CallSummary[]): string {
  const times = turnTimes(record);
  const intervals: Interval[] = [...times.references, times.aggregator];
  const span = Math.max(1e-6, times.root.end - times.root.start);
  const x = (ms: number) => LABEL + ((ms - times.root.start) / span) * TRACK;
  const rows = calls.map((call, i) => {
    const interval = intervals[i] as Interval;
    const y = i * ROW;
    const left = x(interval.start);
    const width = Math.max(2, x(interval.end) - left);
    const kind = call.failed ? 'failed' : call.role;
    const name = call.role === 'reference' ? `ref ${call.index} · ${call.label}` : `aggregator · ${call.label}`;
    // The record's own duration ("–" when it has none), never the length of a synthesized bar.
    const duration = call.durationMs;
    return `<g><text x="${LABEL - 8}" y="${y + 15}" text-anchor="end">${escapeHtml(clip(name, LABEL_CHARS))}</text>`
      + `<rect class="bar ${kind}" x="${left.toFixed(1)}" y="${y + 4}" width="${width.toFixed(1)}" height="${ROW - 8}" rx="2"><title>${escapeHtml(`${name}: ${formatDuration(duration)}${call.failed ? ` (failed: ${call.error ?? ''})` : ''}`)}</title></rect>`
      + `<text x="${LABEL + TRACK + 8}" y="${y + 15}">${escapeHtml(formatDuration(duration))}</text></g>`;
  }).join('');
  const height = calls.length * ROW + 4;
  const note = hasRealTimings(record) ? '' : '<p class="note">This record has no call timings (original format): the order is shown, not real durations.</p>';
  return `<svg class="waterfall" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${LABEL + TRACK + RIGHT} ${height}" width="${LABEL + TRACK + RIGHT}" height="${height}">${rows}</svg>${note}`;
}
