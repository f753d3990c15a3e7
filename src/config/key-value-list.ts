/**
 * `k1=v1,k2=v2` lists as the OpenTelemetry variables write them
 * (`OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_RESOURCE_ATTRIBUTES`): items separated
 * by commas, keys and values percent-encoded, whitespace around them ignored,
 * empty items skipped. Parsing never throws: a malformed item is reported as a
 * problem and left out, and the caller decides whether that is fatal (headers)
 * or costs only that item (resource attributes).
 */

export interface KeyValueProblem {
  /** 1-based position of the item in the list. */
  item: number;
  /** Why it was left out. Never quotes the value: it may be a credential. */
  reason: string;
}

export interface KeyValueList {
  entries: Record<string, string>;
  problems: KeyValueProblem[];
}

export function parseKeyValueList(text: string): KeyValueList {
  const pairs: Array<[string, string]> = [];
  const problems: KeyValueProblem[] = [];
  const items = text.split(',');
  for (const [index, raw] of items.entries()) {
    if (raw.trim() === '') continue;
    const item = index + 1;
    const eq = raw.indexOf('=');
    if (eq < 0) {
      problems.push({ item, reason: 'has no "=" (expected key=value)' });
      continue;
    }
    const key = percentDecode(raw.slice(0, eq).trim());
    if (key === undefined) {
      problems.push({ item, reason: 'has a malformed %-escape in its key' });
      continue;
    }
    if (key === '') {
      problems.push({ item, reason: 'has an empty key' });
      continue;
    }
    const value = percentDecode(raw.slice(eq + 1).trim());
    if (value === undefined) {
      problems.push({ item, reason: `has a malformed %-escape in the value of "${key}"` });
      continue;
    }
    pairs.push([key, value]);
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays a plain entry.
  return { entries: Object.fromEntries(pairs), problems };
}

/** One line describing the first problem of a list, e.g. `item 2 has no "="`. */
export function describeKeyValueProblem(problem: KeyValueProblem): string {
  return `item ${problem.item} ${problem.reason}`;
}

function percentDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
