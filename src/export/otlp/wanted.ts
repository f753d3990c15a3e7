/**
 * Whether moa-otel's own OTLP export is on, for every signal: when asked
 * for (`otlp.enabled`), or when an endpoint is configured and not
 * explicitly off; `OTEL_SDK_DISABLED=true` wins.
 */
import type { Env } from '../../config/paths.js';
import type { MoaConfig } from '../../config/schema.js';

export function otlpExportWanted(config: MoaConfig, env: Env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return config.otlp.enabled ?? config.otlp.endpoint !== undefined;
}
