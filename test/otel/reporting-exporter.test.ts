/**
 * The reporting exporter around the official OTLP exporter: a receiver that
 * fails for two different reasons and then takes spans again gives one
 * failure line per reason and one recovery line in all (the old code said
 * "works again" once per cause, twice for one recovery).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { afterEach, describe, expect, it } from 'vitest';
import { ReportingExporter } from '../../src/otel/reporting-exporter.js';
import type { ExportResultLike, FinishedSpan } from '../../src/trace/span-data.js';
import { sdkSpansWithAttributes } from '../helpers/sdk-spans.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A receiver answering the given statuses in turn, then 200 for ever. */
async function receiver(statuses: number[]): Promise<string> {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const status = statuses.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server?.address() as AddressInfo).port}/v1/traces`;
}

const send = (exporter: ReportingExporter, spans: FinishedSpan[]) =>
  new Promise<ExportResultLike>((resolve) => exporter.export(spans, resolve));

describe('ReportingExporter', () => {
  it('one line per failure cause, one line when exports work again', async () => {
    const url = await receiver([500, 400]);
    const lines: string[] = [];
    const exporter = new ReportingExporter(new OTLPTraceExporter({ url, timeoutMillis: 2_000 }), { target: url, log: (l) => lines.push(l) });
    const spans = await sdkSpansWithAttributes([{ name: 'chat m', attributes: { 'moa.role': 'reference' } }]);
    expect((await send(exporter, spans)).code).not.toBe(0);
    expect((await send(exporter, spans)).code).not.toBe(0);
    expect((await send(exporter, spans)).code).toBe(0);
    expect((await send(exporter, spans)).code).toBe(0);
    const failures = lines.filter((l) => l.includes('failed: HTTP'));
    expect(failures.map((l) => l.match(/HTTP (\d+)/)?.[1])).toEqual(['500', '400']);
    const recoveries = lines.filter((l) => l.includes('works again'));
    expect(recoveries).toEqual([`moa-otel: OTLP export to ${url} works again after 2 failed exports`]);
    expect(exporter.stats).toMatchObject({ exportedSpans: 2, failedSpans: 2, lastError: undefined });
    await exporter.shutdown();
  });
});
