/**
 * A URL as it may be printed: scheme, host and path only. User info
 * (`user:password@`) and the query (`?token=`) can carry credentials, so they
 * never reach a log line or an error message.
 */
export function displayUrl(url: string | URL): string {
  try {
    const parsed = typeof url === 'string' ? new URL(url) : url;
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(an unparsable URL)';
  }
}
