/**
 * Start and end times of a replayed turn. Real times come from the record:
 * the root's `started_at` and `duration_ms`, the calls' `started_at`/`ended_at`
 * (epoch seconds) and `duration_ms`, and `ts` (when the line was written, just
 * after the turn ended). Whatever is missing is synthesized consistently: the
 * references run together from the turn start, the aggregator runs after
 * them, and a root without recorded times spans them all. See
 * docs/ARCHITECTURE.md, "Replay".
 */
import type { HrTime } from '@opentelemetry/api';
import type { AggregatorRecord, ReferenceRecord, TurnRecord } from '../record/schema.js';

export interface Interval {
  /** Epoch milliseconds (fractional). */
  start: number;
  end: number;
}

export interface TurnTimes {
  root: Interval;
  references: Interval[];
  aggregator: Interval;
  /** Which intervals are placeholders: the record said nothing about their timing. */
  synthetic: { root: boolean; references: boolean[]; aggregator: boolean };
}

/** Used when a record says nothing about durations (original files). */
const SYNTHETIC_CALL_MS = 1;

export function turnTimes(record: TurnRecord): TurnTimes {
  const endMs = record.ts * 1000;
  const known = (call: ReferenceRecord | AggregatorRecord): Interval | null => {
    if (typeof call.started_at === 'number' && typeof call.ended_at === 'number' && call.ended_at >= call.started_at) {
      return { start: call.started_at * 1000, end: call.ended_at * 1000 };
    }
    return null;
  };
  const duration = (call: ReferenceRecord | AggregatorRecord): number | null =>
    typeof call.duration_ms === 'number' && Number.isFinite(call.duration_ms) && call.duration_ms >= 0 ? call.duration_ms : null;

  const refKnown = record.references.map(known);
  const aggKnown = known(record.aggregator);
  const refDurations = record.references.map((r, i) => {
    const k = refKnown[i];
    return k ? k.end - k.start : duration(r) ?? SYNTHETIC_CALL_MS;
  });
  const aggDuration = aggKnown ? aggKnown.end - aggKnown.start : duration(record.aggregator) ?? SYNTHETIC_CALL_MS;
  const fanoutMs = largest(refDurations, 0);

  // The aggregator ends when the turn is written unless its own end is known.
  const aggregator = aggKnown ?? { start: endMs - aggDuration, end: endMs };
  const fanoutEnd = aggregator.start;
  const rootDuration = typeof record.duration_ms === 'number' && record.duration_ms >= 0 ? record.duration_ms : null;
  const recordedStart = typeof record.started_at === 'number' && Number.isFinite(record.started_at) ? record.started_at * 1000 : null;
  const turnStartGuess = recordedStart ?? (rootDuration !== null ? endMs - rootDuration : fanoutEnd - fanoutMs);
  const references = record.references.map((_, i) => {
    const own = refKnown[i];
    if (own) return own;
    const length = refDurations[i] ?? SYNTHETIC_CALL_MS;
    const start = Math.min(turnStartGuess, fanoutEnd - length);
    return { start, end: start + length };
  });
  const all = [aggregator, ...references];
  const knownCalls = [...refKnown, aggKnown].filter((i): i is Interval => i !== null);
  let root: Interval;
  if (recordedStart !== null && rootDuration !== null) {
    // Exactly as recorded. Not widened to cover the calls: the OpenTelemetry
    // SDK anchors each span's start on Date.now() (whole milliseconds), so a
    // live call can sit a fraction of a millisecond outside its root, and a
    // replay keeps that.
    root = { start: recordedStart, end: recordedStart + rootDuration };
  } else if (knownCalls.length > 0 && rootDuration !== null) {
    // Records from before the root's `started_at`: `ts` is when the line was
    // written, a little after the root ended, so the root starts with its
    // first call (possibly late) and lasts duration_ms.
    const start = smallest(knownCalls.map((i) => i.start), Infinity);
    root = { start, end: largest(all.map((i) => i.end), start + rootDuration) };
  } else {
    root = {
      start: smallest(all.map((i) => i.start), turnStartGuess),
      end: largest(all.map((i) => i.end), endMs),
    };
  }
  const untimed = (call: ReferenceRecord | AggregatorRecord, k: Interval | null) => k === null && duration(call) === null;
  const synthetic = {
    references: record.references.map((r, i) => untimed(r, refKnown[i] ?? null)),
    aggregator: untimed(record.aggregator, aggKnown),
    root: recordedStart === null && rootDuration === null && knownCalls.length === 0,
  };
  return { root, references, aggregator, synthetic };
}

/*
 * Math.max(...values) passes every value as an argument: a valid record with
 * 150,000 references overflowed the stack. A loop has no such limit.
 */
function largest(values: readonly number[], floor: number): number {
  let out = floor;
  for (const value of values) if (value > out) out = value;
  return out;
}

function smallest(values: readonly number[], ceiling: number): number {
  let out = ceiling;
  for (const value of values) if (value < out) out = value;
  return out;
}

/** Epoch milliseconds (fractional) to OpenTelemetry's [seconds, nanoseconds]. */
export function toHrTime(epochMs: number): HrTime {
  const seconds = Math.floor(epochMs / 1000);
  // Epoch-seconds floats carry microseconds at best: round there so float
  // noise (…123456055 ns) does not show up as fake nanoseconds.
  let nanos = Math.round((epochMs - seconds * 1000) * 1e3) * 1e3;
  if (nanos >= 1e9) return [seconds + 1, nanos - 1e9];
  if (nanos < 0) nanos = 0;
  return [seconds, nanos];
}
