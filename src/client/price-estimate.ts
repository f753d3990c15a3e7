/**
 * The exact cost of one call from a price-table entry. The table's own total
 * is a double (`0.00041000000000000005`): written to a file and summed, that
 * noise shows up in every reader. Prices are given per million tokens with a
 * few decimals, so the cost is computed here in decimal from each price's
 * shortest decimal form (`2.5`, never `2.4999999999999996`) times an integer
 * token count.
 *
 * The split of the tokens follows the table's rules for the usage we report:
 * cache reads and writes are carved out of the input only when the model has
 * a price for them (otherwise they are input tokens at the input price), a
 * tiered price is chosen by the call's whole input, and a per-request price
 * counts one request. Anything this does not know is checked against the
 * table's own total: a disagreement falls back to that total rounded to 15
 * significant digits, which still carries no binary noise.
 */
import { DecimalSum, formatDecimal, parseDecimal, type ScaledDecimal } from '../record/decimal.js';

/** The usage the table is asked about (genai-prices keys; input includes cached tokens). */
export interface TableUsage {
  input_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  output_tokens: number;
}

type TieredPrice = { base: number; tiers: readonly { start: number; price: number }[] };
export type TablePrices = Record<string, number | TieredPrice | undefined>;

/** Price keys whose amount we can count, and the power of ten their price is per. */
const PER_POWER: Readonly<Record<string, number>> = {
  input_mtok: 6,
  cache_read_mtok: 6,
  cache_write_mtok: 6,
  output_mtok: 6,
  requests_kcount: 3,
};

/** Above this relative difference from the table's own total, our split of the tokens is not the table's. */
const AGREEMENT = 1e-9;

/**
 * The exact cost as canonical decimal text, given the prices the table used
 * (`model_price` of its result) and its total as a cross-check.
 */
export function exactEstimate(prices: TablePrices, usage: TableUsage, tableTotal: number): string {
  const computed = computeExact(prices, usage);
  if (computed !== null && agrees(computed, tableTotal)) return computed;
  return formatDecimal(parseDecimal(Number(tableTotal.toPrecision(15))) ?? { units: 0n, scale: 0 });
}

function computeExact(prices: TablePrices, usage: TableUsage): string | null {
  const has = (key: string) => prices[key] !== undefined;
  const counts: Record<string, number> = {
    input_mtok: usage.input_tokens - (has('cache_read_mtok') ? usage.cache_read_tokens : 0) - (has('cache_write_mtok') ? usage.cache_write_tokens : 0),
    cache_read_mtok: usage.cache_read_tokens,
    cache_write_mtok: usage.cache_write_tokens,
    output_mtok: usage.output_tokens,
    requests_kcount: 1,
  };
  const sum = new DecimalSum();
  for (const [key, price] of Object.entries(prices)) {
    if (price === undefined) continue;
    const count = counts[key] ?? 0;
    const power = PER_POWER[key];
    if (count === 0) continue;
    if (power === undefined || count < 0 || !Number.isSafeInteger(count)) return null;
    const unitPrice = parseDecimal(typeof price === 'number' ? price : tierPrice(price, usage.input_tokens));
    if (!unitPrice) return null;
    sum.addDecimal(times(unitPrice, BigInt(count), power));
  }
  return sum.toString();
}

/** The price of the highest tier the call's input passed (the table's rule), else the base. */
function tierPrice(price: TieredPrice, inputTokens: number): number {
  let chosen = price.base;
  for (const tier of [...price.tiers].sort((a, b) => a.start - b.start)) {
    if (inputTokens > tier.start) chosen = tier.price;
  }
  return chosen;
}

/** `value × count / 10^power`, exactly. */
function times(value: ScaledDecimal, count: bigint, power: number): ScaledDecimal {
  return { units: value.units * count, scale: value.scale + power };
}

function agrees(exact: string, tableTotal: number): boolean {
  const difference = Math.abs(Number(exact) - tableTotal);
  return difference <= AGREEMENT * Math.max(Math.abs(tableTotal), 1e-12);
}
