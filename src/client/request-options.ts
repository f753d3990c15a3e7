/**
 * Per-call options as the `openai` client takes them (`timeout`, `signal`,
 * `headers`, `maxRetries`), plus moa-otel's own (`sessionId`, `usage`), and
 * what of them reaches each provider call of the turn.
 */
import type { SessionId } from '../trace/types.js';

/** `usage` of the returned completion: the aggregator's own (default) or the whole turn's totals. */
export type UsageReport = 'aggregator' | 'turn';

/** Header values as the `openai` client accepts them. */
export type HeadersInit = Headers | readonly (readonly [string, string])[] | Record<string, string | readonly string[] | null | undefined>;

/** Per-call extras, the second argument of `create()`. The `openai` client's request options fit here too. */
export interface MoaRequestOptions {
  /** Session id recorded on this turn (default: the client's). The header `x-moa-session-id` says the same. */
  sessionId?: SessionId;
  /** Aborts every call of the turn. */
  signal?: AbortSignal | null;
  /** Milliseconds each provider request of the turn may take (references also keep their own timeout). */
  timeout?: number;
  /** Retries of each provider request. */
  maxRetries?: number;
  /** Sent with every provider request of the turn; credentials are never forwarded (each provider has its own). */
  headers?: HeadersInit | null;
  /** What `usage` of the returned completion holds (default: the client's `usage` option). */
  usage?: UsageReport;
}

/** What every provider request of the turn is sent with. */
export interface ProviderCallOptions {
  signal?: AbortSignal;
  timeout?: number;
  maxRetries?: number;
  headers?: Record<string, string>;
}

export const SESSION_HEADER = 'x-moa-session-id';

/** Headers that carry credentials: a provider gets its own key, never the caller's. */
const NEVER_FORWARDED = new Set(['authorization', 'api-key', 'x-api-key', 'proxy-authorization', 'cookie', SESSION_HEADER]);

/** The caller's headers as a plain lower-case map (values joined as `Headers` would). */
export function headerMap(headers: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const add = (name: unknown, value: unknown) => {
    if (typeof name !== 'string' || value === null || value === undefined) return;
    const text = Array.isArray(value) ? value.map(String).join(', ') : String(value);
    out.set(name.toLowerCase(), text);
  };
  if (headers === null || typeof headers !== 'object') return out;
  if (typeof (headers as Headers).forEach === 'function' && !Array.isArray(headers)) {
    (headers as Headers).forEach((value, name) => add(name, value));
  } else if (Array.isArray(headers)) {
    for (const pair of headers) if (Array.isArray(pair)) add(pair[0], pair[1]);
  } else {
    for (const [name, value] of Object.entries(headers)) add(name, value);
  }
  return out;
}

/** The part of the caller's options that every provider request of the turn gets. */
export function providerCallOptions(options: MoaRequestOptions): ProviderCallOptions {
  const headers: Record<string, string> = {};
  for (const [name, value] of headerMap(options.headers)) if (!NEVER_FORWARDED.has(name)) headers[name] = value;
  return {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(typeof options.timeout === 'number' && options.timeout > 0 ? { timeout: options.timeout } : {}),
    ...(typeof options.maxRetries === 'number' && options.maxRetries >= 0 ? { maxRetries: options.maxRetries } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
  };
}
