/**
 * Token usage normalization. Providers report usage in three shapes; every
 * one of them is mapped to the instrumentation's `Usage`, whose `inputTokens`
 * is the UNCACHED input (cache reads and writes are counted separately).
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
 * - chat completions: `prompt_tokens` includes cached tokens
 *   (`prompt_tokens_details.cached_tokens`, and on some routers
 *   `prompt_tokens_details.cache_write_tokens`);
 * - Anthropic: `input_tokens` already EXCLUDES `cache_read_input_tokens` and
 *   `cache_creation_input_tokens`;
 * - Responses: `input_tokens` INCLUDES `input_tokens_details.cached_tokens`.
 */
export function normalizeUsage(raw: unknown): NormalizedUsage | null {
  if (!isRecord(raw)) return null;
  const reasoningFrom = (details: unknown) => count(isRecord(details) ? details.reasoning_tokens : undefined);

  if (isCount(raw.prompt_tokens) || isCount(raw.completion_tokens)) {
    const prompt = count(raw.prompt_tokens);
    const details = isRecord(raw.prompt_tokens_details) ? raw.prompt_tokens_details : {};
    const cacheRead = count(details.cached_tokens);
    const cacheWrite = count(details.cache_write_tokens);
    return {
      shape: 'chat_completions',
      usage: {
        inputTokens: Math.max(0, prompt - cacheRead - cacheWrite),
        outputTokens: count(raw.completion_tokens),
        cacheReadTokens: cacheRead,
        cacheWriteTokens: cacheWrite,
        reasoningTokens: reasoningFrom(raw.completion_tokens_details),
      },
    };
  }

  if ('cache_read_input_tokens' in raw || 'cache_creation_input_tokens' in raw) {
    const outputDetails = isRecord(raw.output_tokens_details) ? raw.output_tokens_details : {};
    return {
      shape: 'anthropic',
      usage: {
        inputTokens: count(raw.input_tokens),
        outputTokens: count(raw.output_tokens),
        cacheReadTokens: count(raw.cache_read_input_tokens),
        cacheWriteTokens: count(raw.cache_creation_input_tokens),
        reasoningTokens: count(outputDetails.thinking_tokens ?? outputDetails.reasoning_tokens),
      },
    };
  }

  if (isCount(raw.input_tokens) || isCount(raw.output_tokens)) {
    const details = isRecord(raw.input_tokens_details) ? raw.input_tokens_details : {};
    const cacheRead = count(details.cached_tokens);
    return {
      shape: 'responses',
      usage: {
        inputTokens: Math.max(0, count(raw.input_tokens) - cacheRead),
        outputTokens: count(raw.output_tokens),
        cacheReadTokens: cacheRead,
        cacheWriteTokens: 0,
        reasoningTokens: reasoningFrom(raw.output_tokens_details),
      },
    };
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value);
}
function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
