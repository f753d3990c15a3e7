/**
 * Overhead of an instrumented turn with tracing off, against the same turn
 * without instrumentation. The turn does the work an MoA client does besides
 * tracing: builds a view of the conversation, hashes it, awaits two reference
 * calls and an aggregator call (answered on the next tick: a free, instant
 * model, so the comparison is as strict as it can be).
 */
import { createHash } from 'node:crypto';
import { setupMoaTracing, startMoaTurn, type ChatMessage, type MoaTurnStarter } from './bench-deps.js';

export interface TracingOffResult { plainUs: number; instrumentedUs: number; ratio: number }

const messages: ChatMessage[] = Array.from({ length: 12 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `message ${i} `.repeat(60) }));
const callModel = (text: string) => new Promise<string>((resolve) => setImmediate(() => resolve(`answer to ${text.length}`)));

/** One turn; `instrumentation` undefined means no instrumentation at all (same control flow otherwise). */
async function turn(instrumentation: MoaTurnStarter | undefined): Promise<string> {
  const moa = instrumentation ? startMoaTurn({ sessionId: 's', preset: 'p', instrumentation }) : undefined;
  const view = JSON.stringify(messages.filter((m) => m.role !== 'system'));
  createHash('sha256').update(view).digest('hex');
  const refs = await Promise.all([0, 1].map(async (index) => {
    const ref = moa?.startReference({ index, model: `m${index}`, provider: 'p', messages });
    const out = await callModel(view);
    ref?.end({ output: out, usage: { inputTokens: 10, outputTokens: 5 } });
    return out;
  }));
  const agg = moa?.startAggregator({ model: 'agg', provider: 'p', messages });
  const answer = await callModel(refs.join('\n'));
  agg?.end({ output: answer });
  moa?.end();
  return answer;
}

export async function runTracingOffBench(rounds = 20, turnsPerRound = 2000): Promise<TracingOffResult> {
  const tracing = setupMoaTracing({}, { env: {}, ignoreConfigFile: true, registerGlobal: false });
  if (tracing.enabled) throw new Error('tracing should be off for this bench');
  const plain: number[] = [];
  const instrumented: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate which side goes first so drift in machine load cancels out.
    const sides: Array<[number[], MoaTurnStarter | undefined]> = r % 2 ? [[plain, undefined], [instrumented, tracing.instrumentation]] : [[instrumented, tracing.instrumentation], [plain, undefined]];
    for (const [into, instrumentation] of sides) {
      const t = performance.now();
      for (let i = 0; i < turnsPerRound; i++) await turn(instrumentation);
      into.push((performance.now() - t) / turnsPerRound);
    }
  }
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN;
  const plainUs = med(plain) * 1000;
  const instrumentedUs = med(instrumented) * 1000;
  return { plainUs, instrumentedUs, ratio: instrumentedUs / plainUs };
}
