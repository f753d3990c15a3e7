/** What validate adds to the schema, in the order it reports it. */
import { describe, expect, it } from 'vitest';
import { checkRecord } from '../../src/offline/checks.js';
import type { TurnRecord } from '../../src/record/schema.js';
import { oursRecord } from './fixtures.js';

describe('checkRecord', () => {
  it('finds nothing in a good record', () => {
    expect(checkRecord(oursRecord() as TurnRecord)).toEqual([]);
  });

  it('names each value a replay would refuse, record first, then each reference, then the aggregator', () => {
    const record = oursRecord() as TurnRecord & Record<string, unknown>;
    record.ts = -1;
    record.trace_id = 'XYZ';
    record.span_id = '0000000000000000';
    const [first, second] = record.references as [TurnRecord['references'][number], TurnRecord['references'][number]];
    first.span_id = 'short';
    first.ended_at = (first.started_at as number) - 1;
    second.usage = { ...second.usage, input_tokens: -5, output_tokens: 3, reasoning_tokens: -0.5 };
    record.aggregator.usage = { ...record.aggregator.usage, cache_read_tokens: -1 };
    expect(checkRecord(record)).toEqual([
      'ts: not a positive epoch time',
      'trace_id: expected 32 lowercase hex digits, not all zero',
      'span_id: expected 16 lowercase hex digits, not all zero',
      'references.0.span_id: expected 16 lowercase hex digits, not all zero',
      'references.0: ended_at is before started_at',
      'references.1.usage.input_tokens: negative or not finite',
      'references.1.usage.reasoning_tokens: negative or not finite',
      'aggregator.usage.cache_read_tokens: negative or not finite',
    ]);
  });
});
