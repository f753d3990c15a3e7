/**
 * The one place an OTLP/HTTP traces URL is derived from a base URL: the
 * generic `OTEL_EXPORTER_OTLP_ENDPOINT`, `moa-otel export --otlp` and the
 * demo's `--otlp` all name a collector's base and post to `<base>/v1/traces`.
 */
export const OTLP_TRACES_PATH = '/v1/traces';

/**
 * `http://host:4318` → `http://host:4318/v1/traces`, trailing slashes dropped.
 * A URL that already ends in `/v1/traces` is kept as it is: someone who gives
 * the full traces URL where a base is expected means that URL, and
 * `…/v1/traces/v1/traces` reaches no collector.
 */
export function otlpTracesUrl(base: string): string {
  const trimmed = base.trim().replace(/\/+$/, '');
  return trimmed.endsWith(OTLP_TRACES_PATH) ? trimmed : `${trimmed}${OTLP_TRACES_PATH}`;
}
