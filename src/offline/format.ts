/** Small text formatters shared by the terminal commands. */

export function formatInt(n: number): string {
  const rounded = Math.round(n);
  // en-US grouping by hand for the common case: toLocaleString goes through ICU, and a report formats several numbers per call.
  if (Number.isSafeInteger(rounded) && !Object.is(rounded, -0)) {
    const digits = String(Math.abs(rounded));
    let grouped = digits.length <= 3 ? digits : '';
    if (digits.length > 3) {
      const head = digits.length % 3 || 3;
      grouped = digits.slice(0, head);
      for (let i = head; i < digits.length; i += 3) grouped += `,${digits.slice(i, i + 3)}`;
    }
    return rounded < 0 ? `-${grouped}` : grouped;
  }
  return rounded.toLocaleString('en-US');
}

/** `$0.00088653`; an en dash when unknown. */
export function formatCost(usd: string | null): string {
  if (usd === null) return '–';
  return usd.startsWith('-') ? `-$${usd.slice(1)}` : `$${usd}`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes}m${String(seconds).padStart(2, '0')}s`;
}

/** ISO-8601 UTC with seconds, from epoch seconds. */
export function formatEpochSeconds(seconds: number | null | undefined): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '–';
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return '–';
  // toISOString always ends in ".sssZ" (whatever the year): the milliseconds are cut off.
  const iso = date.toISOString();
  return `${iso.slice(0, -5)}Z`;
}

/** `1 turn`, `2 turns`. */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

// Trace content is untrusted: a model name or output could hold escape
// sequences that rewrite the terminal, a newline that forges a table row, or
// a bidirectional control that reorders what follows it on the line (LRM/RLM,
// ALM, the embeddings and overrides U+202A–U+202E, the isolates
// U+2066–U+2069). All of them are shown as \uXXXX escapes instead.
const UNSAFE_BUT_TAB_AND_NEWLINE = '\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069\\u2028\\u2029';
const UNSAFE_IN_A_LINE = new RegExp(`[\\t\\n${UNSAFE_BUT_TAB_AND_NEWLINE}]`, 'g');
// Multi-line text keeps its newlines and tabs (the caller indents each line).
const UNSAFE_IN_LINES = new RegExp(`[${UNSAFE_BUT_TAB_AND_NEWLINE}]`, 'g');

function escapeCodeUnit(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Text for one line or one table cell: every control, newline and tab included, made visible. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_IN_A_LINE, escapeCodeUnit);
}

/**
 * `value` as one line of JSON that is also safe on a terminal: JSON escapes
 * C0 controls only, so C1 controls (U+009B starts an escape sequence on many
 * terminals), bidi overrides (U+202E) and line separators (U+2028) are
 * escaped too. They can only stand inside strings, where `\uXXXX` is the
 * same text to any JSON reader.
 */
export function terminalSafeJson(value: unknown): string {
  return terminalSafe(JSON.stringify(value));
}

/** Multi-line text: like terminalSafe, but newlines and tabs are kept. */
export function terminalSafeLines(text: string): string {
  return text.replace(UNSAFE_IN_LINES, escapeCodeUnit);
}

/** One line of at most `max` characters: whitespace collapsed, controls made visible. */
export function preview(text: string, max: number): string {
  return clip(terminalSafe(text.replace(/\s+/g, ' ').trim()), max);
}

/** At most `max` characters (code points, so no pair is split), an ellipsis marking a cut. */
export function clip(text: string, max: number): string {
  // No more UTF-16 units than `max`, so no more characters: nothing to cut (labels, the common case).
  if (text.length <= max) return text;
  const chars = Array.from(text);
  return chars.length > max ? `${chars.slice(0, Math.max(0, max - 1)).join('')}…` : text;
}

export interface Palette {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}


const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const identity = (s: string) => s;

export const COLOR: Palette = {
  bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), cyan: wrap(36, 39),
};
export const PLAIN: Palette = { bold: identity, dim: identity, red: identity, green: identity, yellow: identity, cyan: identity };

/** Renders rows as left/right aligned columns (right for columns listed in `right`). */
export function table(header: string[], rows: string[][], right: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) => cells
    .map((cell, i) => (right.has(i) ? padLeft(cell, widths[i] ?? 0) : pad(cell, widths[i] ?? 0)))
    .join('  ')
    .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function width(s: string): number {
  return Array.from(s).length;
}

function pad(s: string, w: number): string {
  return s + ' '.repeat(Math.max(0, w - width(s)));
}

function padLeft(s: string, w: number): string {
  return ' '.repeat(Math.max(0, w - width(s))) + s;
}
