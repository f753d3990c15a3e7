/**
 * The one place an OTLP/HTTP traces URL is derived from a base URL: the
 * generic `OTEL_EXPORTER_OTLP_ENDPOINT`, `moa-otel export --otlp` and the
 * demo's `--otlp` all name a collector's base and post to `<base>/v1/traces`.
 * And the one rule for showing any such URL to a person (`displayUrl`).
 */
import type { Env } from './paths.js';

export const OTLP_TRACES_PATH = '/v1/traces';

/**
 * `http://host:4318` → `http://host:4318/v1/traces`, trailing slashes dropped.
 * A URL that already ends in `/v1/traces` is kept as it is: someone who gives
 * the full traces URL where a base is expected means that URL, and
 * `…/v1/traces/v1/traces` reaches no collector. The path goes before a query
 * or fragment (`http://host:4318/?token=x` → `http://host:4318/v1/traces?token=x`),
 * never after it.
 */
export function otlpTracesUrl(base: string): string {
  const trimmed = base.trim();
  const tail = trimmed.search(/[?#]/);
  const beforeQuery = (tail < 0 ? trimmed : trimmed.slice(0, tail)).replace(/\/+$/, '');
  const query = tail < 0 ? '' : trimmed.slice(tail);
  return beforeQuery.endsWith(OTLP_TRACES_PATH) ? `${beforeQuery}${query}` : `${beforeQuery}${OTLP_TRACES_PATH}${query}`;
}

/**
 * The traces URL the standard variables name: the signal-specific
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, the generic
 * OTEL_EXPORTER_OTLP_ENDPOINT with `/v1/traces` appended, as the OTLP
 * exporter specification says.
 */
export function standardTracesEndpoint(env: Env): string | undefined {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (specific) return specific;
  const generic = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return generic ? otlpTracesUrl(generic) : undefined;
}

/**
 * A URL as it may appear in a message or on a terminal: scheme, host and
 * path only. The user info (`user:password@`), the query (`?token=…`) and
 * the fragment may each hold a credential. Never throws: text that is not a
 * URL shows as `(invalid URL)`, since it may be a credential pasted in the
 * wrong place.
 */
export function displayUrl(url: URL | string): string {
  try {
    const parsed = typeof url === 'string' ? new URL(url) : url;
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
