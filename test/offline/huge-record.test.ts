/**
 * A valid record with 150,000 references: `report` and `export` replay it
 * (its times, then its spans) without overflowing the stack. Spreading every
 * call as an argument (`Math.max(...durations)`, `batch.push(...spans)`) did.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import { exportSession } from '../../src/offline/export-session.js';
import type { SpanSink } from '../../src/offline/span-sink.js';
import { turnTimes } from '../../src/offline/replay-times.js';
import { turnRecordSchema } from '../../src/record/schema.js';

const REFERENCES = 150_000;

function hugeRecord() {
  const reference = (i: number) => ({
    label: 'p:m', model: 'm', provider: 'p', temperature: null, input_messages: [], output: 'o',
    usage: { input_tokens: 1, output_tokens: 1, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0 },
    cost_usd: '0.001', cost_status: 'actual', cost_source: 'provider',
    started_at: 1_764_000_000 + i / 1e6, ended_at: 1_764_000_001, duration_ms: 1, span_id: (1e15 + i).toString(16), error: null,
  });
  return {
    ts: 1_764_000_002, session_id: 'huge', preset: 'p', references: Array.from({ length: REFERENCES }, (_, i) => reference(i)),
    aggregator: { label: 'p:a', model: 'a', provider: 'p', temperature: null, input_messages: [], output: 'x', streamed: false, output_location: 'inline' },
  };
}

describe('a record with 150,000 references', () => {
  it('gets its replay times (the report waterfall and export both start here)', () => {
    const times = turnTimes(turnRecordSchema.parse(hugeRecord()));
    expect(times.references).toHaveLength(REFERENCES);
    expect(times.root.end).toBeGreaterThanOrEqual(times.root.start);
  });

  it('is exported whole: every span reaches the sink', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-huge-'));
    const file = path.join(dir, 'huge.jsonl');
    writeFileSync(file, `${JSON.stringify(hugeRecord())}\n`);
    let spans = 0;
    const sink: SpanSink = { write: async (batch) => { spans += batch.length; }, close: async () => {} };
    const summary = await exportSession({ file }, { sink, context: { resource: resourceFromAttributes({ 'service.name': 'test' }), scope: { name: 'moa-otel' } } });
    expect(summary).toMatchObject({ turns: 1, spans: REFERENCES + 2 });
    expect(spans).toBe(REFERENCES + 2);
    // About 3 s alone, 19 s in a full run on two busy cores: the count cannot shrink (the spread
    // overflowed only beyond about 125,000 arguments), so the bound has room for a loaded machine.
  }, 180_000);
});
