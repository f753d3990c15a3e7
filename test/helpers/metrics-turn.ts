/**
 * One MoA turn that gives every metric of the instrumentation a value: a
 * reference that answers (usage with cached tokens, an actual cost, a
 * response model), one that fails with HTTP 429, and a streamed aggregator
 * with an estimated cost. The metrics tests read its measurements, whichever
 * meter provider recorded them.
 */
import type { MoaInstrumentation } from '../../src/trace/instrumentation.js';

export function recordMetricsTurn(instrumentation: MoaInstrumentation, cache: 'miss' | 'hit' = 'miss'): void {
  const turn = instrumentation.startTurn({ sessionId: 's', preset: 'duo', cache });
  turn.startReference({ index: 0, model: 'ref-a', provider: 'openrouter', genAiProvider: 'openai', serverAddress: 'api.example', serverPort: 443, messages: [] })
    .end({ output: 'x', usage: { inputTokens: 100, cacheReadTokens: 20, outputTokens: 7 }, cost: { usd: 0.5, status: 'actual' }, response: { model: 'ref-a-2026' } });
  turn.startReference({ index: 1, model: 'ref-b', provider: 'openai', messages: [] }).fail(Object.assign(new Error('busy'), { status: 429 }));
  const aggregator = turn.startAggregator({ model: 'agg', provider: 'openai', stream: true, messages: [] });
  aggregator.firstChunk();
  aggregator.end({ output: 'y', usage: { inputTokens: 50, outputTokens: 5 }, cost: { usd: '0.25', status: 'estimated' } });
  turn.end();
}
