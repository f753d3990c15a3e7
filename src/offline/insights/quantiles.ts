/**
 * Bounded, mergeable quantiles for latencies and waits. Up to EXACT_LIMIT
 * values are kept as they are (small inputs get exact nearest-rank
 * quantiles, which the tests rely on); past that the values move into
 * logarithmic buckets 1 % wide (a DDSketch-like histogram: a few hundred
 * buckets for anything from 1 µs to a day), so memory stays bounded
 * whatever the number of calls, and sketches from worker threads merge.
 */

const EXACT_LIMIT = 2048;
const GAMMA = 1.02;
const LOG_GAMMA = Math.log(GAMMA);

/** Plain data (structured-clonable) so sketches cross worker threads. */
export interface SketchData {
  count: number;
  /** The values while there are at most EXACT_LIMIT of them; null once bucketed. */
  exact: number[] | null;
  /** Bucket index → count (values ≤ 0 in bucket "zero"). */
  buckets: Record<string, number>;
}

export function emptySketch(): SketchData {
  return { count: 0, exact: [], buckets: {} };
}

export function addToSketch(sketch: SketchData, value: number): void {
  if (!Number.isFinite(value)) return;
  sketch.count += 1;
  if (sketch.exact) {
    sketch.exact.push(value);
    if (sketch.exact.length > EXACT_LIMIT) toBuckets(sketch);
    return;
  }
  bucketAdd(sketch.buckets, value, 1);
}

export function mergeSketch(into: SketchData, from: SketchData): void {
  if (from.exact) {
    for (const value of from.exact) addToSketch(into, value);
    return;
  }
  if (into.exact) toBuckets(into);
  for (const [key, count] of Object.entries(from.buckets)) into.buckets[key] = (into.buckets[key] ?? 0) + count;
  into.count += from.count;
}

/** Nearest-rank quantile (the smallest value with at least q of the values at or below it); null when empty. */
export function quantile(sketch: SketchData, q: number): number | null {
  if (sketch.count === 0) return null;
  const rank = Math.max(1, Math.ceil(q * sketch.count));
  if (sketch.exact) return [...sketch.exact].sort((a, b) => a - b)[rank - 1] ?? null;
  const keys = Object.keys(sketch.buckets).map((k) => (k === 'zero' ? -Infinity : Number(k))).sort((a, b) => a - b);
  let seen = 0;
  for (const key of keys) {
    seen += sketch.buckets[key === -Infinity ? 'zero' : String(key)] ?? 0;
    if (seen >= rank) return key === -Infinity ? 0 : (2 * GAMMA ** key) / (GAMMA + 1);
  }
  return null;
}

function toBuckets(sketch: SketchData): void {
  for (const value of sketch.exact ?? []) bucketAdd(sketch.buckets, value, 1);
  sketch.exact = null;
}

function bucketAdd(buckets: Record<string, number>, value: number, count: number): void {
  const key = value <= 0 ? 'zero' : String(Math.ceil(Math.log(value) / LOG_GAMMA));
  buckets[key] = (buckets[key] ?? 0) + count;
}
