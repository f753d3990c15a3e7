/**
 * Turning anything thrown into text, without ever throwing: callers hand us
 * hostile values (an error whose `message` getter throws, `Object.create(null)`,
 * a revoked proxy) and tracing must still end the call.
 */

/** The first line of a text, trimmed. */
export function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return (end < 0 ? text : text.slice(0, end)).trim();
}

/** A readable text for any thrown value; never throws. */
export function errorText(error: unknown): string {
  try {
    if (error instanceof Error) {
      const message = typeof error.message === 'string' ? error.message : '';
      return message !== '' ? message : String(error.name || 'Error');
    }
    if (typeof error === 'string') return error;
    if (error === null || error === undefined) return String(error);
    if (typeof error === 'object') {
      const message = (error as { message?: unknown }).message;
      if (typeof message === 'string' && message !== '') return message;
    }
    return String(error);
  } catch {
    return 'unprintable error';
  }
}

/** The first line of any thrown value's text, for a one-line message; never throws. */
export function errorLine(error: unknown): string {
  return firstLine(errorText(error));
}

/** The HTTP status an error carries (the `openai` package sets `status`), if any; never throws. */
export function httpStatusOf(error: unknown): number | undefined {
  try {
    const status = typeof error === 'object' && error !== null ? (error as { status?: unknown }).status : undefined;
    return typeof status === 'number' ? status : undefined;
  } catch {
    return undefined;
  }
}

/** The whole reason a call failed, prefixed with the HTTP status when the text does not say it. */
export function describeFailure(error: unknown): string {
  const text = errorText(error).trim() || 'unknown error';
  const status = httpStatusOf(error);
  return status !== undefined && !text.includes(String(status)) ? `HTTP ${status}: ${text}` : text;
}
