/**
 * A file as the original writer wrote it (no `iteration` key) with
 * `fanout: every_iteration`: each iteration of a tool loop is a line. Where a
 * user turn starts is then judged from the aggregator's request (its last
 * caller message is a tool result inside a loop), so readers that skip
 * message lists for speed must still see it.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { overviewSession } from '../../src/offline/session-files.js';
import { captureIo, makeTraceDir, oursRecord, type TraceDir } from './fixtures.js';

function seedIteration(messages: unknown[], toolCalls: boolean, ts: number, aggregatorFirst = false): string {
  const record = oursRecord({ ts, sessionId: 'seed-loop', failSecond: false }) as Record<string, unknown> & { aggregator: Record<string, unknown> };
  delete record.iteration;
  delete record.cache;
  delete record.fanout;
  record.trace_id = String(ts).padStart(32, 'a');
  record.aggregator = {
    ...record.aggregator,
    input_messages: [...messages, { role: 'user', content: 'Advice from the references: …' }],
    tool_calls: toolCalls ? [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] : null,
    finish_reason: toolCalls ? 'tool_calls' : 'stop',
    output: toolCalls ? null : 'Light rain.',
  };
  if (!aggregatorFirst) return JSON.stringify(record);
  const { aggregator, ...rest } = record;
  return JSON.stringify({ aggregator, ...rest });
}

describe('a seed-format tool loop (every iteration written, no iteration key)', () => {
  let dir: TraceDir | undefined;
  afterEach(() => dir?.cleanup());

  it.each([false, true])('is one user turn with nothing unrecorded, as ls reads it (aggregator key first: %s)', async (aggregatorFirst) => {
    dir = makeTraceDir();
    const question = { role: 'user', content: 'Weather in Paris?' };
    const call = { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] };
    const result = { role: 'tool', tool_call_id: 'call_1', content: 'rain' };
    const file = dir.write('seed-loop.jsonl', `${seedIteration([question], true, 1_764_000_000, aggregatorFirst)}\n${seedIteration([question, call, result], false, 1_764_000_010, aggregatorFirst)}\n`);

    const overview = await overviewSession(file);
    expect(overview.turns).toBe(2);
    expect(overview.unrecordedIterations).toBe(0);
  });

  it('is one user turn too once exported to OTLP (the rebuilt records have no iteration either)', async () => {
    dir = makeTraceDir();
    const question = { role: 'user', content: 'Weather in Paris?' };
    const call = { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] };
    const result = { role: 'tool', tool_call_id: 'call_1', content: 'rain' };
    const file = dir.write('seed-loop.jsonl', `${seedIteration([question], true, 1_764_000_000)}\n${seedIteration([question, call, result], false, 1_764_000_010)}\n`);
    const otlp = path.join(path.dirname(file), 'seed-loop.otlp.json');
    expect(await runCli(['export', file, '--out', otlp], captureIo().io)).toBe(0);

    const overview = await overviewSession(otlp);
    expect(overview.turns).toBe(2);
    expect(overview.unrecordedIterations).toBe(0);
  });
});
