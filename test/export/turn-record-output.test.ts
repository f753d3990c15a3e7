/**
 * The output of a call span without a payload (a span read back from OTLP)
 * comes from its `gen_ai.output.messages`: the aggregator's text and its
 * tool calls are both taken from one parse of that attribute, and odd
 * message lists give what they hold instead of throwing.
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import { recordValueOfSpans } from '../../src/offline/spans-record.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RawSlots } from '../../src/export/json-line.js';
import { buildTurnRecord, isMoaRoot } from '../../src/export/turn-record.js';
import { replayRecord } from '../../src/offline/replay.js';
import { parseRecordLine } from '../../src/offline/reader.js';
import type { TurnRecord } from '../../src/record/schema.js';
import { GEN_AI_OUTPUT_MESSAGES, MOA_ROLE, ROLE_AGGREGATOR, ROLE_REFERENCE } from '../../src/trace/attributes.js';
import { CAPTURE_ALL } from '../../src/trace/content-policy.js';
import { oursRecord } from '../offline/fixtures.js';

const CONTEXT = { resource: resourceFromAttributes({ 'service.name': 'test' }), scope: { name: 'moa-otel', version: '0.1.0' } };

/** A turn's spans as the OTLP reader rebuilds them, the output messages of the aggregator (or the first reference) replaced. */
function iterationWithAggregatorOutput(outputMessages: string, role: string = ROLE_AGGREGATOR) {
  const parsed = parseRecordLine(JSON.stringify(oursRecord()));
  if (!parsed.ok) throw new Error(parsed.message);
  const spans = replayRecord(parsed.record as TurnRecord, CONTEXT);
  const root = spans.find((s) => isMoaRoot(s));
  const call = spans.find((s) => s.attributes[MOA_ROLE] === role)!;
  (call.attributes as Record<string, unknown>)[GEN_AI_OUTPUT_MESSAGES] = outputMessages;
  const calls = spans.filter((s) => s !== root).map((span) => ({ span, ended: true }));
  return { root, rootEnded: true, calls, firstSeenAt: 0 };
}

/** The first reference's entry (a reference's output is its text alone: no tool calls read from the same list). */
function referenceOf(outputMessages: string): Record<string, unknown> {
  const record = buildTurnRecord(iterationWithAggregatorOutput(outputMessages, ROLE_REFERENCE), { slots: new RawSlots(), policy: CAPTURE_ALL, now: 1_764_000_000_000 });
  return (record.references as Record<string, unknown>[])[0]!;
}

const WITH_TOOL_CALLS = JSON.stringify([{
  role: 'assistant',
  parts: [
    { type: 'text', content: 'let me look ' },
    { type: 'tool_call', id: 'c1', name: 'search', arguments: { q: 'x' } },
    { type: 'text', content: 'that up' },
  ],
  finish_reason: 'tool_calls',
}]);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a call output from output messages', () => {
  it("parses the aggregator's output messages once for its text and its tool calls", () => {
    const iteration = iterationWithAggregatorOutput(WITH_TOOL_CALLS);
    const parse = vi.spyOn(JSON, 'parse');
    const record = buildTurnRecord(iteration, { slots: new RawSlots(), policy: CAPTURE_ALL, now: 1_764_000_000_000 });
    const parsesOfOutput = parse.mock.calls.filter(([text]) => text === WITH_TOOL_CALLS).length;
    parse.mockRestore();
    expect(parsesOfOutput).toBe(1);
    const aggregator = record.aggregator as Record<string, unknown>;
    expect(aggregator.output).toBe('let me look that up');
    expect(aggregator.tool_calls).not.toBeNull();
    // And the tool calls are the ones the messages hold, as the record's line gives them.
    const line = recordValueOfSpans(iteration, 1_764_000_000_000);
    expect((line.aggregator as { tool_calls: unknown }).tool_calls).toEqual([{ id: 'c1', type: 'function', function: { name: 'search', arguments: JSON.stringify({ q: 'x' }) } }]);
  });

  it('takes the text of the parts it can read and skips null messages and parts instead of throwing', () => {
    const odd = JSON.stringify([null, 7, { role: 'assistant', parts: [null, 3, 'text', { type: 'text', content: 'kept' }] }, { role: 'assistant' }]);
    expect(referenceOf(odd).output).toBe('kept');
  });

  it('reads a `parts` that is one object, not a list, as that one part (as flattening the parts always did)', () => {
    expect(referenceOf(JSON.stringify([{ role: 'assistant', parts: { type: 'text', content: 'single' } }])).output).toBe('single');
    expect(referenceOf('not json').output).toBeNull();
    expect(referenceOf('{"not":"a list"}').output).toBeNull();
  });
});
