/**
 * Replays the records of one trace file into a span sink, in batches bounded
 * by record count and by input bytes, so huge records are sent a few at a
 * time rather than 32 to a request.
 */
import type { FinishedSpan } from '../trace/span-data.js';
import { matchesSession, type TraceTarget } from './target.js';
import { readInput, type InputOptions } from './inputs.js';
import type { RecordProblem } from './reader.js';
import { replayRecord, type ReplayContext } from './replay.js';
import type { SpanSink } from './span-sink.js';

export interface ExportOptions {
  sink: SpanSink;
  context: ReplayContext;
  onProblem?: (p: RecordProblem) => void;
  /** Called after each request with the bytes of the file read so far. */
  onProgress?: (doneBytes: number) => void;
  stdin?: InputOptions['stdin'];
}

const BATCH_RECORDS = 32;
const BATCH_BYTES = 4 * 1024 * 1024;

export interface ExportSummary {
  turns: number;
  spans: number;
  batches: number;
}

export async function exportSession(target: TraceTarget, options: ExportOptions): Promise<ExportSummary> {
  const summary: ExportSummary = { turns: 0, spans: 0, batches: 0 };
  let batch: FinishedSpan[] = [];
  let batchRecords = 0;
  let batchBytes = 0;
  let lastOffset = 0;
  let rawBytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await options.sink.write(batch);
    summary.batches += 1;
    batch = [];
    batchRecords = 0;
    batchBytes = 0;
  };
  const records = readInput(target, { onProblem: options.onProblem, stdin: options.stdin, onProgress: (bytes) => { rawBytes = bytes; } });
  for await (const { record, endOffset } of records) {
    batchBytes += endOffset - lastOffset;
    lastOffset = endOffset;
    if (!matchesSession(record.session_id, target)) continue;
    const spans = replayRecord(record, options.context);
    // One by one: push(...spans) passes each span as an argument, and a turn may hold 150,000 calls.
    for (const span of spans) batch.push(span);
    batchRecords += 1;
    summary.turns += 1;
    summary.spans += spans.length;
    if (batchRecords >= BATCH_RECORDS || batchBytes >= BATCH_BYTES) {
      await flush();
      options.onProgress?.(rawBytes);
    }
  }
  await flush();
  return summary;
}
