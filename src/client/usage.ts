/**
 * Token usage normalization. Providers report usage in three shapes, and
 * several of them put their cache counts in places of their own; every one is
 * mapped to the instrumentation's `Usage`, whose `inputTokens` is the
 * UNCACHED input (cache reads and writes are counted separately).
 */
import type { Usage } from '../record/usage.js';

export type UsageShape = 'chat_completions' | 'anthropic' | 'responses';

export interface NormalizedUsage {
  usage: Usage;
  shape: UsageShape;
}

/**
 * Recognizes the shape and returns the normalized usage, or null when the
 * value carries no token counts at all.
 *
 * - chat completions: `prompt_tokens` INCLUDES every cached token. Cache
 *   reads are `prompt_tokens_details.cached_tokens` (OpenAI), else
 *   `prompt_cache_hit_tokens` (DeepSeek), `cache_read_input_tokens`
 *   (Anthropic-native names on compatible gateways) or a top-level
 *   `cached_tokens`; cache writes are `prompt_tokens_details.cache_write_tokens`
 *   (OpenRouter) or `cache_creation_input_tokens`;
 * - Responses: `input_tokens` INCLUDES `input_tokens_details.cached_tokens`
 *   (a gateway may add Anthropic-native keys too: the details decide);
 * - Anthropic: `input_tokens` already EXCLUDES `cache_read_input_tokens` and
 *   `cache_creation_input_tokens`.
 */
export function normalizeUsage(raw: unknown): NormalizedUsage | null {
  if (!isRecord(raw)) return null;
  if (isCount(raw.prompt_tokens) || isCount(raw.completion_tokens)) return { shape: 'chat_completions', usage: chatCompletionsUsage(raw) };
  const responsesDetails = isRecord(raw.input_tokens_details);
  const anthropicKeys = 'cache_read_input_tokens' in raw || 'cache_creation_input_tokens' in raw;
  if (anthropicKeys && !responsesDetails) return { shape: 'anthropic', usage: anthropicUsage(raw) };
  if (isCount(raw.input_tokens) || isCount(raw.output_tokens)) return { shape: 'responses', usage: responsesUsage(raw) };
  return null;
}

function chatCompletionsUsage(raw: Record<string, unknown>): Usage {
  const details = recordOf(raw.prompt_tokens_details);
  return inclusiveUsage({
    input: raw.prompt_tokens,
    output: raw.completion_tokens,
    cacheRead: cacheCount(details.cached_tokens, raw.prompt_cache_hit_tokens, raw.cache_read_input_tokens, raw.cached_tokens),
    cacheWrite: cacheCount(details.cache_write_tokens, raw.cache_creation_input_tokens),
    reasoning: recordOf(raw.completion_tokens_details).reasoning_tokens,
  });
}

function anthropicUsage(raw: Record<string, unknown>): Usage {
  const outputDetails = recordOf(raw.output_tokens_details);
  return {
    inputTokens: count(raw.input_tokens),
    outputTokens: count(raw.output_tokens),
    cacheReadTokens: count(raw.cache_read_input_tokens),
    cacheWriteTokens: count(raw.cache_creation_input_tokens),
    reasoningTokens: count(outputDetails.thinking_tokens ?? outputDetails.reasoning_tokens),
  };
}

function responsesUsage(raw: Record<string, unknown>): Usage {
  const details = recordOf(raw.input_tokens_details);
  return inclusiveUsage({
    input: raw.input_tokens,
    output: raw.output_tokens,
    cacheRead: cacheCount(details.cached_tokens, raw.cache_read_input_tokens, raw.cached_tokens),
    cacheWrite: cacheCount(details.cache_write_tokens, details.cache_creation_tokens, raw.cache_creation_input_tokens),
    reasoning: recordOf(raw.output_tokens_details).reasoning_tokens,
  });
}

/** A usage whose input count INCLUDES the cache reads and writes: the uncached part is what remains. */
function inclusiveUsage(u: { input: unknown; output: unknown; cacheRead: number; cacheWrite: number; reasoning: unknown }): Usage {
  return {
    inputTokens: Math.max(0, count(u.input) - u.cacheRead - u.cacheWrite),
    outputTokens: count(u.output),
    cacheReadTokens: u.cacheRead,
    cacheWriteTokens: u.cacheWrite,
    reasoningTokens: count(u.reasoning),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function recordOf(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}
function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value);
}
function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
/**
 * One quantity several providers report under different names (a gateway may
 * fill a generic details object with 0 and put the real count elsewhere): the
 * largest reported value.
 */
function cacheCount(...values: unknown[]): number {
  return Math.max(0, ...values.map(count));
}
