/** Reading what arrived: Jaeger's query API v3 and the collector's OTLP JSON lines file. */
import { readFile } from 'node:fs/promises';
import { flattenTracesData, type FlatSpan } from './otlp-json.js';
import { waitUntil } from './processes.js';

/** All spans Jaeger holds for a trace; [] while it knows nothing of it. */
export async function jaegerTraceSpans(queryUrl: string, traceId: string): Promise<FlatSpan[]> {
  const response = await fetch(`${queryUrl}/api/v3/traces/${traceId}`);
  if (response.status === 404) return [];
  if (!response.ok) throw new Error(`Jaeger answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
  const body = (await response.json()) as { result?: unknown };
  return flattenTracesData(body.result ?? body);
}

/**
 * Waits until Jaeger holds every expected span of the trace, then waits a
 * little longer and reads again, so a late duplicate would still be seen.
 */
export async function waitForJaegerSpans(queryUrl: string, traceId: string, expectedSpanIds: readonly string[], timeoutMs = 45_000): Promise<FlatSpan[]> {
  await waitUntil(
    `Jaeger to hold ${expectedSpanIds.length} spans of trace ${traceId}`,
    async () => {
      const spans = await jaegerTraceSpans(queryUrl, traceId);
      const ids = new Set(spans.map((s) => s.spanId));
      return expectedSpanIds.every((id) => ids.has(id)) ? spans : undefined;
    },
    timeoutMs,
    250,
  );
  await new Promise((r) => setTimeout(r, 1_000));
  return jaegerTraceSpans(queryUrl, traceId);
}

/** Every span in the collector's file exporter output (one OTLP JSON request per line). */
export async function collectorFileSpans(path: string): Promise<FlatSpan[]> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const spans: FlatSpan[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    spans.push(...flattenTracesData(JSON.parse(line)));
  }
  return spans;
}

export async function waitForFileSpans(path: string, expectedSpanIds: readonly string[], timeoutMs = 30_000): Promise<FlatSpan[]> {
  await waitUntil(
    `the collector file to hold ${expectedSpanIds.length} spans`,
    async () => {
      const ids = new Set((await collectorFileSpans(path)).map((s) => s.spanId));
      return expectedSpanIds.every((id) => ids.has(id)) ? true : undefined;
    },
    timeoutMs,
    250,
  );
  await new Promise((r) => setTimeout(r, 500));
  return collectorFileSpans(path);
}
