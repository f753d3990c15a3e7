/**
 * Prices one model call with its OWN provider and model (a reference is never
 * priced at the aggregator's rate). Order of preference:
 *
 * 1. a cost the provider reported in the response (`usage.cost`, as OpenRouter
 *    does) → `actual`;
 * 2. a provider configured as `included` (subscription) → `included`, 0 USD;
 * 3. the bundled `@pydantic/genai-prices` table → `estimated`, or `included`
 *    when the route is listed at zero price (free tiers);
 * 4. otherwise → `unknown` with a null cost.
 *
 * genai-prices ships its price data inside the package and works offline; we
 * never call its remote updater, so pricing never touches the network. The
 * table is loaded on the first estimate (`price-table.ts`), and an estimate
 * is exact decimal text computed from the table's prices (`price-estimate.ts`).
 */
import { decimalText, parseDecimal } from '../record/decimal.js';
import { genAiInputTokens } from '../record/usage.js';
import type { Cost, Usage } from '../trace/types.js';
import { exactEstimate, type TablePrices } from './price-estimate.js';
import { priceTable } from './price-table.js';

export interface PriceRequest {
  /** The configured provider name (e.g. `openrouter`, `my-gateway`). */
  provider: string;
  /** The GenAI provider name (`openai`, `anthropic`, `gcp.gemini`, ...). */
  genAiProvider?: string;
  baseURL?: string;
  model: string;
  usage: Usage | null;
  /** The raw `usage` object of the response, searched for a reported cost. */
  rawUsage?: unknown;
  included?: boolean;
}

/** GenAI semantic-convention provider names that genai-prices spells differently. */
const GENAI_TO_PRICE_PROVIDER: Readonly<Record<string, string>> = {
  'gcp.gemini': 'google',
  'gcp.vertex_ai': 'google',
  'gcp.gen_ai': 'google',
  'aws.bedrock': 'aws',
  'azure.ai.openai': 'azure',
  'azure.ai.inference': 'azure',
  x_ai: 'x-ai',
  mistral_ai: 'mistral',
};

export function priceCall(request: PriceRequest): Cost {
  const reported = reportedCost(request.rawUsage);
  if (reported !== null) return { usd: reported, status: 'actual', source: 'provider' };
  if (request.included) return { usd: 0, status: 'included', source: 'subscription' };
  if (!request.usage) return { usd: null, status: 'unknown', source: null };

  const estimate = estimateFromTable(request, request.usage);
  if (estimate === null) return { usd: null, status: 'unknown', source: null };
  if (estimate === '0') return { usd: 0, status: 'included', source: 'genai-prices' };
  return { usd: estimate, status: 'estimated', source: 'genai-prices' };
}

/**
 * A provider-reported cost: `usage.cost`, else `usage.total_cost`. A number
 * stays a number; a decimal string stays the exact text the provider sent
 * (the record writes its digits as they are, the span gets the nearest float).
 */
export function reportedCost(rawUsage: unknown): number | string | null {
  if (typeof rawUsage !== 'object' || rawUsage === null) return null;
  const usage = rawUsage as Record<string, unknown>;
  for (const key of ['cost', 'total_cost']) {
    const value = usage[key];
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
    if (typeof value === 'string') {
      const exact = parseDecimal(value);
      if (exact && exact.units >= 0n) return decimalText(value);
    }
  }
  return null;
}

/**
 * Looks the call up in genai-prices. The provider is identified by its API
 * URL first (most specific: an OpenRouter base URL means OpenRouter prices),
 * then by the GenAI provider name, then by the configured name. A model on a
 * provider the table does not know is NOT priced by model name alone: a
 * self-hosted `gpt-4o-mini` clone would otherwise be billed at OpenAI rates.
 */
function estimateFromTable(request: PriceRequest, usage: Usage): string | null {
  const table = priceTable();
  if (!table) return null;
  const tokens = {
    // genai-prices counts cached tokens inside input_tokens.
    input_tokens: genAiInputTokens(usage),
    cache_read_tokens: usage.cacheReadTokens,
    cache_write_tokens: usage.cacheWriteTokens,
    output_tokens: usage.outputTokens,
  };
  const attempts: { providerApiUrl?: string; providerId?: string }[] = [];
  if (request.baseURL) attempts.push({ providerApiUrl: request.baseURL });
  for (const name of [request.genAiProvider, request.provider]) {
    if (name) attempts.push({ providerId: GENAI_TO_PRICE_PROVIDER[name] ?? name });
  }
  for (const attempt of attempts) {
    try {
      const result = table.calcPrice(tokens, request.model, attempt);
      if (result && Number.isFinite(result.total_price)) return exactEstimate(result.model_price as TablePrices, tokens, result.total_price);
    } catch {
      // An unusual model id or usage key must never break a turn: try the next lookup.
    }
  }
  return null;
}
