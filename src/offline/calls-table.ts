/**
 * The calls table: one flat row per model call (each reference, then the
 * aggregator) of every turn, for SQL engines. Columns are documented in
 * docs/calls-table.md; their order and types here are that contract.
 *
 * Costs stay exact: a call's cost is the record's decimal, carried as text
 * (CSV, JSON Lines) or as DECIMAL(38, 18) (Parquet), never through a float.
 */
import { parseDecimal, type ScaledDecimal } from '../record/decimal.js';
import type { TurnRecord } from '../record/schema.js';
import { summarizeTurn } from './summary.js';

export type ColumnKind = 'string' | 'int' | 'double' | 'timestamp' | 'decimal';

export interface CallsColumn {
  name: string;
  kind: ColumnKind;
}

/** Every column in order. */
export const CALLS_COLUMNS = [
  { name: 'trace_id', kind: 'string' },
  { name: 'turn_span_id', kind: 'string' },
  { name: 'call_span_id', kind: 'string' },
  { name: 'session_id', kind: 'string' },
  { name: 'preset', kind: 'string' },
  { name: 'turn_ts', kind: 'timestamp' },
  { name: 'iteration', kind: 'int' },
  { name: 'cache', kind: 'string' },
  { name: 'role', kind: 'string' },
  { name: 'reference_index', kind: 'int' },
  { name: 'label', kind: 'string' },
  { name: 'model', kind: 'string' },
  { name: 'provider', kind: 'string' },
  { name: 'started_at', kind: 'timestamp' },
  { name: 'ended_at', kind: 'timestamp' },
  { name: 'duration_ms', kind: 'double' },
  { name: 'input_tokens', kind: 'int' },
  { name: 'output_tokens', kind: 'int' },
  { name: 'cache_read_tokens', kind: 'int' },
  { name: 'cache_write_tokens', kind: 'int' },
  { name: 'reasoning_tokens', kind: 'int' },
  { name: 'cost_usd', kind: 'decimal' },
  { name: 'cost_status', kind: 'string' },
  { name: 'cost_source', kind: 'string' },
  { name: 'outcome', kind: 'string' },
  { name: 'failure_reason', kind: 'string' },
  { name: 'output_bytes', kind: 'int' },
  { name: 'finish_reason', kind: 'string' },
] as const satisfies readonly CallsColumn[];

export type CallsColumnName = (typeof CALLS_COLUMNS)[number]['name'];

/**
 * A cell: text, a whole number, a float, a time (epoch microseconds, so no
 * float rounds it twice), an exact decimal, or null.
 */
export type Cell = string | number | { micros: bigint } | ScaledDecimal | null;
export type CallsRow = Record<CallsColumnName, Cell>;

/** Digits after the point of the Parquet cost column; a cost with more is rounded there (and counted). */
export const COST_SCALE = 18;

/** The rows of one turn: its references in order, then its aggregator. */
export function callsRows(record: TurnRecord): CallsRow[] {
  const summary = summarizeTurn(record);
  const turnTs = micros(record.ts);
  return summary.calls.map((call) => {
    const c = call.call;
    const tokens = call.tokens;
    return {
      trace_id: record.trace_id ?? null,
      turn_span_id: record.span_id ?? null,
      call_span_id: typeof c.span_id === 'string' ? c.span_id : null,
      session_id: record.session_id,
      preset: record.preset,
      turn_ts: turnTs,
      iteration: typeof record.iteration === 'number' ? record.iteration : null,
      cache: typeof record.cache === 'string' ? record.cache : null,
      role: call.role,
      reference_index: call.role === 'reference' ? call.index : null,
      label: call.label,
      model: call.model,
      provider: call.provider,
      started_at: micros(c.started_at),
      ended_at: micros(c.ended_at),
      duration_ms: call.durationMs,
      input_tokens: tokens ? tokens.inputTokens : null,
      output_tokens: tokens ? tokens.outputTokens : null,
      cache_read_tokens: tokens ? tokens.cacheReadTokens : null,
      cache_write_tokens: tokens ? tokens.cacheWriteTokens : null,
      reasoning_tokens: tokens ? tokens.reasoningTokens : null,
      cost_usd: call.cost,
      cost_status: call.costStatus,
      cost_source: typeof c.cost_source === 'string' ? c.cost_source : null,
      outcome: call.failed ? 'failed' : 'ok',
      failure_reason: call.error,
      output_bytes: typeof call.output === 'string' && !call.failed ? Buffer.byteLength(call.output, 'utf8') : null,
      finish_reason: call.role === 'aggregator' && typeof call.call.finish_reason === 'string' ? call.call.finish_reason : null,
    };
  });
}

/** Shortest text of epoch seconds with at most six decimals. */
const PLAIN_SECONDS = /^(\d{1,10})(?:\.(\d{1,6}))?$/;
/** Largest whole seconds whose microseconds stay below 2^53. */
const MAX_PLAIN_SECONDS = 9_007_199_253;

/** Epoch seconds (a float with microseconds) as whole microseconds, exactly as the seconds' shortest text says. */
export function micros(seconds: unknown): { micros: bigint } | null {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return null;
  // The common case in whole numbers (exact: below 2^53), without BigInt arithmetic. At most 15
  // digits: parseDecimal reads such a text as written (more is float noise it rounds away).
  const plain = PLAIN_SECONDS.exec(String(seconds));
  if (plain) {
    const whole = plain[1] as string;
    const fraction = plain[2] ?? '';
    if (whole.length + fraction.length <= 15 && Number(whole) <= MAX_PLAIN_SECONDS) {
      return { micros: BigInt(Number(whole) * 1_000_000 + Number(fraction.padEnd(6, '0'))) };
    }
  }
  return exactMicros(seconds);
}

function exactMicros(seconds: number): { micros: bigint } | null {
  const exact = parseDecimal(seconds);
  if (!exact) return null;
  // Round half up to whole microseconds.
  const shift = exact.scale - 6;
  if (shift <= 0) return { micros: exact.units * 10n ** BigInt(-shift) };
  const divisor = 10n ** BigInt(shift);
  return { micros: (exact.units + divisor / 2n) / divisor };
}

export function isTime(cell: Cell): cell is { micros: bigint } {
  return typeof cell === 'object' && cell !== null && 'micros' in cell;
}

export function isDecimal(cell: Cell): cell is ScaledDecimal {
  return typeof cell === 'object' && cell !== null && 'units' in cell;
}

const MAX_SAFE_MICROS = BigInt(Number.MAX_SAFE_INTEGER);

/** A time as ISO 8601 with microseconds, UTC. */
export function isoMicros(value: { micros: bigint }): string {
  if (value.micros >= 0n && value.micros <= MAX_SAFE_MICROS) {
    // Whole numbers below 2^53: exact without BigInt division.
    const n = Number(value.micros);
    const extra = n % 1000;
    return `${new Date((n - extra) / 1000).toISOString().slice(0, -1)}${String(extra).padStart(3, '0')}Z`;
  }
  const ms = value.micros / 1000n;
  const extra = Number(((value.micros % 1000n) + 1000n) % 1000n);
  const base = new Date(Number(value.micros < 0n && extra !== 0 ? ms - 1n : ms)).toISOString(); // ...sss Z
  return `${base.slice(0, -1)}${String(extra).padStart(3, '0')}Z`;
}

/** A decimal at exactly `scale` digits (rounded half away from zero when it has more): the Parquet unscaled value. */
export function unscaled(value: ScaledDecimal, scale = COST_SCALE): { units: bigint; rounded: boolean } {
  if (value.scale <= scale) return { units: value.units * 10n ** BigInt(scale - value.scale), rounded: false };
  const divisor = 10n ** BigInt(value.scale - scale);
  const half = divisor / 2n;
  const units = value.units >= 0n ? (value.units + half) / divisor : -((-value.units + half) / divisor);
  return { units, rounded: units * divisor !== value.units };
}
