/**
 * A cache-HIT iteration shows where its advice came from: its aggregator
 * links to the MISS iteration's reference spans (the span contexts travel in
 * the cache entry) and its root counts the reused references.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { runConversation } from '../../src/client/conversation.js';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import * as A from '../../src/trace/attributes.js';
import { byRole, recordingTracing, roots, scriptedServer, testClient, WEATHER_TOOL, type RecordingTracing } from './helpers.js';

let server: ScriptedServer | undefined;
let tracing: RecordingTracing | undefined;
afterEach(async () => {
  await server?.close();
  await tracing?.shutdown();
});

describe('a cache HIT links to the advice it reused', () => {
  it("links the HIT's aggregator to the MISS iteration's reference spans, says they were reused, and counts them on the root", async () => {
    let toolDone = false;
    server = await scriptedServer({
      'advisor-a': { reply: 'Advice A' },
      'advisor-b': { reply: 'Advice B' },
      aggregator: {
        reply: (request) => {
          const sawTool = request.messages.some((m) => m.role === 'tool');
          if (!sawTool && !toolDone) return { toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] };
          toolDone = true;
          return { content: 'take the metro' };
        },
      },
    });
    tracing = recordingTracing();
    const client = testClient(server, tracing.instrumentation, { sessionId: 'hit-links' });
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const result = await runConversation({ client, messages, tools: [WEATHER_TOOL], handlers: { get_weather: () => ({ forecast: 'rain' }) }, sessionId: 'hit-links' });
    expect(result.finalAnswer).toBe('take the metro');

    const spans = tracing.spans();
    const rootSpans = roots(spans).sort((a, b) => (a.startTime[0] - b.startTime[0]) || (a.startTime[1] - b.startTime[1]));
    expect(rootSpans.map((r) => r.attributes[A.MOA_CACHE])).toEqual(['miss', 'hit']);
    const [miss, hit] = rootSpans;
    const missReferences = byRole(spans, 'reference').filter((s) => s.spanContext().traceId === miss?.spanContext().traceId);
    expect(missReferences).toHaveLength(2);

    const hitAggregator = byRole(spans, 'aggregator').find((s) => s.spanContext().traceId === hit?.spanContext().traceId);
    const links = hitAggregator?.links ?? [];
    expect(links.map((l) => l.context.spanId).sort()).toEqual(missReferences.map((s) => s.spanContext().spanId).sort());
    for (const link of links) {
      expect(link.context.traceId).toBe(miss?.spanContext().traceId);
      expect(link.attributes?.[A.MOA_REFERENCE_REUSED]).toBe(true);
      expect(link.attributes?.[A.MOA_REFERENCE_OUTCOME]).toBe('ok');
    }
    expect(hitAggregator?.attributes[A.MOA_REFERENCES_OUTCOMES]).toBe('ok,ok');
    expect(hit?.attributes[A.MOA_REFERENCE_COUNT]).toBe(0);
    expect(hit?.attributes[A.MOA_REFERENCE_REUSED]).toBe(2);
    // The MISS ran its own references: nothing reused there.
    expect(miss?.attributes[A.MOA_REFERENCE_REUSED]).toBeUndefined();
    const missAggregator = byRole(spans, 'aggregator').find((s) => s.spanContext().traceId === miss?.spanContext().traceId);
    expect(missAggregator?.links.every((l) => l.attributes?.[A.MOA_REFERENCE_REUSED] === undefined)).toBe(true);
  });
});
