/**
 * OTLP times are unsigned 64-bit nanoseconds since the epoch; spans carry
 * `HrTime` = [seconds, nanoseconds]. Today's epoch nanoseconds (~1.8e18)
 * exceed 2^53, so `seconds * 1e9` as a double loses digits. Writing
 * 1e9 = 1953125 * 2^9 keeps every product exact: `seconds * 1953125` stays
 * below 2^53 until the year 2116, and the shift by 9 bits only moves bits
 * between the two 32-bit halves. Anything outside that range, or not a
 * normalized HrTime, takes the BigInt path.
 */
import type { HrTime } from '@opentelemetry/api';

const NANOS_PER_SECOND = 1_000_000_000;
const FIVE_POW_9 = 1_953_125; // 1e9 / 2^9
const TWO_POW_23 = 0x80_0000;
const TWO_POW_32 = 0x1_0000_0000;
/** Largest seconds for which `seconds * FIVE_POW_9` is an exact double. */
const FAST_SECONDS_LIMIT = Math.floor(Number.MAX_SAFE_INTEGER / FIVE_POW_9);

function isFastPath(seconds: number, nanos: number): boolean {
  return Number.isInteger(seconds) && seconds >= 0 && seconds <= FAST_SECONDS_LIMIT
    && Number.isInteger(nanos) && nanos >= 0 && nanos < NANOS_PER_SECOND;
}

function bigNanos(time: HrTime): bigint {
  const whole = (value: number) => (Number.isFinite(value) ? BigInt(Math.trunc(value)) : 0n);
  const total = whole(time[0]) * 1_000_000_000n + whole(time[1]);
  // Before the epoch is not representable in OTLP; past 2^64 wraps as any uint64 would.
  return total < 0n ? 0n : BigInt.asUintN(64, total);
}

/** The time as [low, high] 32-bit halves of its uint64 nanoseconds. */
export function unixNanosHalves(time: HrTime): [low: number, high: number] {
  const [seconds, nanos] = time;
  if (isFastPath(seconds, nanos)) {
    const scaled = seconds * FIVE_POW_9; // exact, < 2^53; the time is scaled * 2^9 + nanos
    const highPart = Math.floor(scaled / TWO_POW_23);
    const lowPart = (scaled - highPart * TWO_POW_23) * 512 + nanos; // < 2^32 + 2^30
    const carry = lowPart >= TWO_POW_32 ? 1 : 0;
    return [lowPart - carry * TWO_POW_32, highPart + carry];
  }
  const total = bigNanos(time);
  return [Number(total & 0xffff_ffffn), Number(total >> 32n)];
}

/** The time as the decimal string OTLP/JSON uses for 64-bit integers. */
export function unixNanosString(time: HrTime): string {
  const [seconds, nanos] = time;
  if (isFastPath(seconds, nanos)) return seconds === 0 ? String(nanos) : `${seconds}${String(nanos).padStart(9, '0')}`;
  return bigNanos(time).toString();
}
