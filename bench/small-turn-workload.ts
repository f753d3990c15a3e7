/**
 * The 10.8 KB row's workload, shared by `small-turn.ts` and
 * `small-turn-ab.ts`: a new mixed-script conversation every turn, three
 * references with their own copies of it (equal content, distinct
 * objects), the aggregator with the conversation under its own prompt.
 */
import type * as Moa from '../src/index.js';
import { conversation, mixedText as text } from './mixed-text.js';

const bytes = 9_700;
const chars = Math.max(300, Math.round(bytes / 4 / 1.55) - 400);
const perMessage = Math.max(200, Math.ceil(chars / 20));
const output = text(7, Math.min(2000, Math.max(100, Math.round(bytes / 100))));

export interface SmallTurnInput {
  refs: Moa.ChatMessage[][];
  agg: Moa.ChatMessage[];
}

/** A generator of turns' inputs, each with a conversation never seen before. */
export function smallTurnInputs(): () => SmallTurnInput {
  let seed = 0;
  return () => {
    const history = conversation(++seed, chars, perMessage);
    const refs = Array.from({ length: 3 }, (_, r) => [
      { role: 'system', content: `You are reference advisor ${r}. Answer briefly.` } as Moa.ChatMessage,
      ...history.map((m) => ({ ...m })),
    ]);
    const agg = [{ role: 'system', content: 'You are the acting model.' } as Moa.ChatMessage, ...history];
    return { refs, agg };
  };
}

/** One instrumented turn of the workload through `startMoaTurn` of whichever build is measured. */
export function runSmallTurn(
  startMoaTurn: typeof Moa.startMoaTurn, instrumentation: Moa.MoaInstrumentation, session: string, input: SmallTurnInput,
): void {
  const t = startMoaTurn({ sessionId: session, preset: 'bench', instrumentation });
  input.refs.forEach((messages, index) => {
    const call = t.startReference({ index, model: `ref-${index}`, provider: 'local', messages });
    call.end({ output, usage: { inputTokens: 1000, outputTokens: 100 }, cost: { usd: 0.001, status: 'estimated' } });
  });
  const call = t.startAggregator({ model: 'agg', provider: 'local', messages: input.agg });
  call.end({ output, usage: { inputTokens: 2000, outputTokens: 200 } });
  t.end();
}
