/**
 * JSONL path cost: a full instrumented turn (instrumentation + exporter +
 * write) against the floor of `JSON.stringify` of the same record plus one
 * `fs.appendFileSync`, for turns of about 10 KB, 1 MB and 10 MB. Both sides
 * run interleaved in one process; the ratio of medians is the result.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setupMoaTracing, startMoaTurn, type ChatMessage } from './bench-deps.js';

export interface JsonlPathResult {
  label: string;
  lineBytes: number;
  instrumentedMs: number;
  floorMs: number;
  ratio: number;
}

function conversation(totalBytes: number): ChatMessage[] {
  // Several messages of realistic text (not one giant string) so per-message work counts.
  const messages: ChatMessage[] = [{ role: 'system', content: 'You are a careful planning assistant.' }];
  const chunk = 'The quick brown fox considers the itinerary, weighs the costs, and writes a note. ';
  const perMessage = Math.max(200, Math.floor(totalBytes / 3 / 20));
  let size = 0;
  for (let i = 0; size < totalBytes / 3; i++) {
    const text = chunk.repeat(Math.ceil(perMessage / chunk.length)).slice(0, perMessage);
    messages.push(i % 2 === 0 ? { role: 'user', content: `${i}: ${text}` } : { role: 'assistant', content: `${i}: ${text}` });
    size += text.length;
  }
  return messages;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

export async function runJsonlPathBench(sizes: Array<[string, number, number]> = [["10 KB", 10_000, 10_000], ["1 MB", 1_000_000, 60], ["10 MB", 10_000_000, 10]]): Promise<JsonlPathResult[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'moa-bench-'));
  const tracing = setupMoaTracing({ save_traces: true, trace_dir: dir }, { env: {}, ignoreConfigFile: true, registerGlobal: false });
  const results: JsonlPathResult[] = [];
  try {
    for (const [label, bytes, rounds] of sizes) {
      // Two references share one advisory view; with the aggregator's messages
      // that is three arrays of about bytes/3 each, so the line is about `bytes`.
      const refMessages = conversation(bytes);
      const aggMessages = conversation(bytes);
      const output = 'Advice: '.padEnd(Math.min(2000, Math.max(200, bytes / 50)), 'a');
      const instrumented = (session: string) => {
        const turn = startMoaTurn({ sessionId: session, preset: 'bench', instrumentation: tracing.instrumentation });
        for (let i = 0; i < 2; i++) {
          turn.startReference({ index: i, model: `ref-${i}`, provider: 'local', messages: refMessages })
            .end({ output, usage: { inputTokens: 1000, outputTokens: 100 }, cost: { usd: 0.001, status: 'estimated' } });
        }
        turn.startAggregator({ model: 'agg', provider: 'local', messages: aggMessages }).end({ output, usage: { inputTokens: 2000, outputTokens: 200 } });
        turn.end();
      };
      // The floor writes the very record the instrumented path produced.
      instrumented(`probe-${label}`);
      const probeFile = path.join(dir, `probe-${label.replace(' ', '_')}.jsonl`);
      const record: unknown = JSON.parse(readFileSync(probeFile, 'utf8'));
      const floorFile = path.join(dir, `floor-${label.replace(' ', '_')}.jsonl`);
      const floor = () => appendFileSync(floorFile, `${JSON.stringify(record)}\n`);
      const a: number[] = [];
      const b: number[] = [];
      // An agent turn awaits the network, so the event loop (and the SDK's
      // promise bookkeeping) runs between turns: yield, untimed, after each.
      const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
      for (let i = 0; i < 3; i++) { instrumented(`warm-${label}`); floor(); await tick(); }
      for (let i = 0; i < rounds; i++) {
        let t = performance.now();
        instrumented(`run-${label}`);
        a.push(performance.now() - t);
        await tick();
        t = performance.now();
        floor();
        b.push(performance.now() - t);
        await tick();
        // Keep both files small so the filesystem sees the same work on both sides.
        if (bytes >= 1_000_000 || i % 500 === 499) {
          rmSync(path.join(dir, `run-${label.replace(' ', '_')}.jsonl`), { force: true });
          rmSync(floorFile, { force: true });
        }
      }
      const instrumentedMs = median(a);
      const floorMs = median(b);
      results.push({ label, lineBytes: JSON.stringify(record).length, instrumentedMs, floorMs, ratio: instrumentedMs / floorMs });
    }
  } finally {
    await tracing.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
