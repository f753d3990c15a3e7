/**
 * Size safety on the OTLP path against a real collector whose HTTP receiver
 * refuses bodies above 1 MiB: a turn carrying 25 MiB of messages still
 * arrives complete in Jaeger (every span, content cut and flagged) and
 * complete in the JSONL file (every message, uncut).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { MoaTracing } from '../../src/index.js';
import * as A from '../../src/trace/attributes.js';
import { expectTurnMatchesRecord } from './support/assert-turn.js';
import { bulkyConversation as conversation, bulkyText, messageBytes } from './support/bulk.js';
import { collectorFileSpans, jaegerTraceSpans, waitForFileSpans, waitForJaegerSpans } from './support/backends.js';
import { readTurnRecords, recordScriptedTurn, recordSpanIds, sessionFiles, setupTestTracing, type ScriptedCall } from './support/moa.js';
import { startCollector, startJaeger, type Collector, type Jaeger } from './support/stack.js';

const MIB = 1024 * 1024;
const COLLECTOR_LIMIT = 1 * MIB;
/** The exporter's own limit, safely under the collector's. */
const MAX_EXPORT_BYTES = 900 * 1024;

describe('a 25 MiB turn through a collector that takes at most 1 MiB per request', () => {
  let work: string;
  let jaeger: Jaeger;
  let collector: Collector;
  let tracing: MoaTracing | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'moa-e2e-size-'));
    jaeger = await startJaeger(work);
    collector = await startCollector(work, {
      jaegerOtlpGrpcEndpoint: jaeger.otlpGrpcEndpoint,
      spanFile: join(work, 'out', 'spans.jsonl'),
      maxRequestBodyBytes: COLLECTOR_LIMIT,
    });
  });
  afterAll(async () => {
    await tracing?.shutdown();
    await collector?.stop();
    await jaeger?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('control: without the size guard such a span is refused and never reaches Jaeger', async () => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
    provider.getTracer('control').startSpan('chat too-big', { attributes: { [A.GEN_AI_INPUT_MESSAGES]: bulkyText(2 * MIB, 0) } }).end();
    const [span] = memory.getFinishedSpans();
    if (!span) throw new Error('no span recorded');
    const plain = new OTLPTraceExporter({ url: `${collector.otlpHttpUrl}/v1/traces` });
    const result = await new Promise<ExportResult>((resolve) => plain.export([span], resolve));
    await plain.shutdown();
    await provider.shutdown();
    expect(result.code).toBe(ExportResultCode.FAILED);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await jaegerTraceSpans(jaeger.queryUrl, span.spanContext().traceId)).toEqual([]);
  });

  it('arrives complete in Jaeger and in the collector file, and uncut in the JSONL file', async () => {
    const dir = join(work, 'traces');
    tracing = setupTestTracing({ dir, home: join(work, 'home'), otlpUrl: collector.otlpHttpUrl, maxExportBytes: MAX_EXPORT_BYTES });
    const references: ScriptedCall[] = [0, 1, 2].map((i) => ({
      model: `ref-model-${i}`,
      provider: 'scripted',
      messages: conversation(6 * MIB, i * 10),
      output: bulkyText(64 * 1024, i),
    }));
    const aggregator: ScriptedCall = { model: 'agg-model', provider: 'scripted', messages: conversation(7 * MIB, 99), output: bulkyText(200 * 1024, 5) };
    expect(messageBytes([...references, aggregator])).toBeGreaterThanOrEqual(25 * MIB);

    recordScriptedTurn(tracing, { sessionId: 'size-e2e', preset: 'big', references, aggregator });
    await tracing.forceFlush();

    // JSONL: the whole conversation, exactly as sent.
    const [file] = await sessionFiles(dir);
    if (!file) throw new Error('no JSONL file written');
    const records = await readTurnRecords(file);
    expect(records).toHaveLength(1);
    const record = records[0];
    if (!record) throw new Error('no record');
    record.references.forEach((ref, i) => {
      expect(ref.input_messages).toEqual(references[i]?.messages);
      expect(ref.output).toBe(references[i]?.output);
    });
    expect(record.aggregator.input_messages).toEqual(aggregator.messages);

    // Jaeger: every span, content cut to fit and flagged.
    const spans = await waitForJaegerSpans(jaeger.queryUrl, record.trace_id, recordSpanIds(record), 90_000);
    expectTurnMatchesRecord(spans, record, { exactContent: false });
    const calls = spans.filter((s) => s.attributes[A.MOA_ROLE] !== undefined);
    expect(calls).toHaveLength(4);
    for (const call of calls) {
      expect(call.attributes[A.MOA_CONTENT_TRUNCATED], call.name).toBe(true);
      expect(Number(call.attributes[A.MOA_CONTENT_ORIGINAL_BYTES]), call.name).toBeGreaterThan(6 * MIB);
      const input = JSON.parse(String(call.attributes[A.GEN_AI_INPUT_MESSAGES])) as Array<{ role: string }>;
      expect(input.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
      expect(String(call.attributes[A.GEN_AI_INPUT_MESSAGES])).toContain('…[moa-otel: truncated');
    }

    // The collector's file: the same spans, each once.
    const fileSpans = (await waitForFileSpans(collector.spanFile, recordSpanIds(record), 60_000)).filter((s) => s.traceId === record.trace_id);
    expectTurnMatchesRecord(fileSpans, record, { exactContent: false });
    expect((await collectorFileSpans(collector.spanFile)).filter((s) => s.traceId === record.trace_id)).toHaveLength(5);
  });
});
