/**
 * Call spans are active while their call runs: with a real HTTP
 * instrumentation (OpenTelemetry's undici/fetch instrumentation) in the app,
 * each provider request's HTTP span hangs under its `chat <model>` span, and
 * the W3C `traceparent` the model server receives names that HTTP span.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMoaSpanProcessors } from '../../src/setup/processors.js';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { scriptedServer, testClient } from './helpers.js';

let server: ScriptedServer;
let memory: InMemorySpanExporter;
let provider: NodeTracerProvider;
let unregister: () => void;
let processors: ReturnType<typeof createMoaSpanProcessors>;

beforeAll(async () => {
  server = await scriptedServer();
  memory = new InMemorySpanExporter();
  processors = createMoaSpanProcessors({}, { env: {}, ignoreConfigFile: true });
  provider = new NodeTracerProvider({ spanProcessors: [...processors, new SimpleSpanProcessor(memory)] });
  // The application's own setup: global provider, context manager and W3C propagator.
  provider.register();
  unregister = registerInstrumentations({ instrumentations: [new UndiciInstrumentation()], tracerProvider: provider });
});

afterAll(async () => {
  unregister();
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
  await server.close();
});

function chatSpan(spans: ReadableSpan[], model: string): ReadableSpan {
  const found = spans.find((s) => s.name === `chat ${model}`);
  if (!found) throw new Error(`no chat span for ${model}`);
  return found;
}

describe('provider requests nest under their call span', () => {
  for (const stream of [false, true]) {
    it(`${stream ? 'streamed' : 'plain'} turn: HTTP spans are children of chat spans, traceparent names them`, async () => {
      memory.reset();
      server.requests.length = 0;
      const client = testClient(server, processors.instrumentation);
      if (stream) {
        const chunks = await client.chat.completions.create({ model: 'moa', messages: [{ role: 'user', content: 'q' }], stream: true });
        for await (const _ of chunks) { /* drain */ }
      } else {
        await client.chat.completions.create({ model: 'moa', messages: [{ role: 'user', content: 'q' }] });
      }
      await provider.forceFlush();
      const spans = memory.getFinishedSpans();
      const httpSpans = spans.filter((s) => s.instrumentationScope.name.includes('undici'));
      expect(httpSpans).toHaveLength(3);
      for (const request of server.requests) {
        const chat = chatSpan(spans, request.model);
        const http = httpSpans.find((s) => s.parentSpanContext?.spanId === chat.spanContext().spanId);
        expect(http, `HTTP span under chat ${request.model}`).toBeDefined();
        const traceparent = String(request.headers.traceparent ?? '');
        expect(traceparent).toBe(`00-${chat.spanContext().traceId}-${http!.spanContext().spanId}-01`);
      }
    });
  }
});
