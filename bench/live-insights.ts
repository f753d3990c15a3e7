/**
 * Cost of live insights (`insights_live: true`): the same turn recorded to
 * JSONL with and without them. The measures run as the aggregator's call
 * ends, so the number that matters is the time of that `end()` (what the
 * caller waits for) per MB of output text (references + answer), next to
 * the whole turn's time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setupMoaTracing, startMoaTurn, type MoaTurnStarter } from './bench-deps.js';

export interface LiveInsightsResult {
  label: string;
  outputBytes: number;
  offTurnMs: number;
  onTurnMs: number;
  offEndMs: number;
  onEndMs: number;
  /** Added time of the aggregator's end() per MB of output. */
  addedMsPerMb: number;
  turnRatio: number;
}

function words(seed: number, bytes: number): string {
  let s = seed >>> 0;
  const out: string[] = [];
  let size = 0;
  while (size < bytes) {
    s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
    const w = (s >>> 8).toString(36);
    out.push(w);
    size += w.length + 1;
  }
  return out.join(' ');
}

function turn(instrumentation: MoaTurnStarter, outputs: readonly string[], answer: string): number {
  const moa = startMoaTurn({ sessionId: 'bench-live', preset: 'p', instrumentation });
  outputs.forEach((output, index) => moa.startReference({ index, model: `m${index}`, provider: 'p', messages: [{ role: 'user', content: 'q' }] })
    .end({ output, usage: { inputTokens: 10, outputTokens: 5 }, cost: { usd: '0.001', status: 'actual' } }));
  const agg = moa.startAggregator({ model: 'agg', provider: 'p', messages: [{ role: 'user', content: 'q' }] });
  const t = performance.now();
  agg.end({ output: answer, usage: { inputTokens: 10, outputTokens: 5 } });
  const endMs = performance.now() - t;
  moa.end();
  return endMs;
}

export async function runLiveInsightsBench(sizes: [string, number, number][] = [['10 KB', 10_000, 200], ['1 MB', 1_000_000, 6]]): Promise<LiveInsightsResult[]> {
  const results: LiveInsightsResult[] = [];
  for (const [label, bytes, turns] of sizes) {
    // Four references and an answer that takes half of each: 5 texts of bytes/5.
    const outputs = [0, 1, 2, 3].map((i) => words(i + 1, bytes / 5));
    const answer = outputs.map((o) => o.slice(0, o.length / 8)).join(' ');
    const sides: Record<'on' | 'off', { turn: number[]; end: number[] }> = { on: { turn: [], end: [] }, off: { turn: [], end: [] } };
    const dirs: string[] = [];
    const setups = (['off', 'on'] as const).map((side) => {
      const dir = mkdtempSync(path.join(tmpdir(), `moa-bench-live-${side}-`));
      dirs.push(dir);
      return [side, setupMoaTracing({ save_traces: true, trace_dir: dir, insights_live: side === 'on' }, { env: {}, ignoreConfigFile: true, registerGlobal: false })] as const;
    });
    for (let round = 0; round < 5; round++) {
      for (const [side, tracing] of round % 2 ? [...setups].reverse() : setups) {
        const t = performance.now();
        let end = 0;
        for (let i = 0; i < turns; i++) end += turn(tracing.instrumentation, outputs, answer);
        await tracing.forceFlush();
        sides[side].turn.push((performance.now() - t) / turns);
        sides[side].end.push(end / turns);
      }
    }
    for (const [, tracing] of setups) await tracing.shutdown();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN;
    const outputBytes = outputs.reduce((n, o) => n + o.length, answer.length);
    const r = { offTurnMs: med(sides.off.turn), onTurnMs: med(sides.on.turn), offEndMs: med(sides.off.end), onEndMs: med(sides.on.end) };
    results.push({ label, outputBytes, ...r, addedMsPerMb: (r.onEndMs - r.offEndMs) / (outputBytes / 1e6), turnRatio: r.onTurnMs / r.offTurnMs });
  }
  return results;
}

export function formatLiveInsightsBench(results: readonly LiveInsightsResult[]): string[] {
  return results.map((r) => `  ${r.label.padEnd(6)} output ${(r.outputBytes / 1e6).toFixed(3)} MB  aggregator end(): off ${r.offEndMs.toFixed(3)} ms, on ${r.onEndMs.toFixed(3)} ms`
    + ` (+${r.addedMsPerMb.toFixed(1)} ms per MB of output)  turn: off ${r.offTurnMs.toFixed(3)} ms, on ${r.onTurnMs.toFixed(3)} ms, ratio ${r.turnRatio.toFixed(2)}x`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log('Live insights: the same turn recorded to JSONL with insights_live off and on');
  for (const line of formatLiveInsightsBench(await runLiveInsightsBench())) console.log(line);
}
