/**
 * A seeded corpus of session files with planted truths for `insights`:
 *
 * preset `research` (3 sessions × 20 user turns), four advisors:
 * - `a:carrier` carries the answer (three of its sentences are the answer's core);
 * - `c:analyst` adds one sentence only it has, and one that `b:echo` repeats;
 * - `b:echo` repeats a sentence of `c:analyst` and says nothing else;
 * - `d:stray` writes text that never reaches the answer (and costs the most).
 *
 * preset `coding` (2 sessions × 20 user turns), three advisors:
 * - `e:slow` always finishes last, 1,500 ms (+ a seeded 0–400 ms) after the next;
 * - `f:flaky` fails in exactly 12 of 40 turns (8 timeouts, 4 rate limits);
 * - `g:solid` contributes its sentence every time.
 * In session `coding-2` four user turns run a tool loop whose later
 * iterations are cache HITs and not written: the file shows the first
 * iteration asking for tools, then the next user turn.
 *
 * Costs are whole micro-dollars so every expected sum is exact integer
 * arithmetic here, independent of the code under test.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface SlotTruth {
  calls: number;
  failures: number;
  /** Sum of known costs in micro-dollars. */
  costMicro: number;
  /** Wait added in ms in each turn it finished last (coding/e:slow only). */
  waits: number[];
  userTurns: number;
}

export interface CorpusTruth {
  files: string[];
  slots: Record<string, SlotTruth>;
  /** Every known cost (references and aggregators), micro-dollars. */
  totalMicro: number;
  presetMicro: Record<string, number>;
  userTurns: Record<string, number>;
  iterations: Record<string, number>;
  unrecorded: number;
  /** Answer latencies (ms) of user turns whose final answer was recorded, per preset. */
  answerLatencies: Record<string, number[]>;
}

export const MICRO = 1_000_000;

/** Micro-dollars as the decimal text an exact sum prints. */
export function microText(micro: number): string {
  const whole = Math.floor(micro / MICRO);
  const fraction = String(micro % MICRO).padStart(6, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : String(whole);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Slot {
  label: string;
  costMicro: number;
}

const RESEARCH: Slot[] = [
  { label: 'a:carrier', costMicro: 4000 },
  { label: 'b:echo', costMicro: 2000 },
  { label: 'c:analyst', costMicro: 3000 },
  { label: 'd:stray', costMicro: 6000 },
];
const CODING: Slot[] = [
  { label: 'e:slow', costMicro: 2000 },
  { label: 'f:flaky', costMicro: 1000 },
  { label: 'g:solid', costMicro: 3000 },
];
const AGGREGATOR_MICRO = { research: 10_000, coding: 8000 } as const;
const TOOL_LOOP_TURNS = new Set([3, 7, 11, 15]);
const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z

export function generateCorpus(dir: string, seed = 17): CorpusTruth {
  const random = mulberry32(seed);
  const int = (n: number) => Math.floor(random() * n);
  const word = () => Array.from({ length: 6 }, () => String.fromCharCode(97 + int(26))).join('');
  const sentence = () => `${Array.from({ length: 10 }, word).join(' ')}.`;

  const truth: CorpusTruth = {
    files: [], slots: {}, totalMicro: 0, presetMicro: { research: 0, coding: 0 }, userTurns: { research: 0, coding: 0 },
    iterations: { research: 0, coding: 0 }, unrecorded: 0, answerLatencies: { research: [], coding: [] },
  };
  const slotTruth = (key: string) => (truth.slots[key] ??= { calls: 0, failures: 0, costMicro: 0, waits: [], userTurns: 0 });
  // Which 12 of the 40 coding turns the flaky advisor fails in, and why.
  const codingTurns = Array.from({ length: 40 }, (_, i) => i);
  for (let i = codingTurns.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [codingTurns[i], codingTurns[j]] = [codingTurns[j] as number, codingTurns[i] as number];
  }
  const flakyFails = new Map(codingTurns.slice(0, 12).map((turn, k) => [turn, k < 8 ? 'timeout after 30s' : 'HTTP 429: rate limited']));

  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let clock = T0;
  let codingIndex = 0;
  const sessions = [
    { id: 'research-1', preset: 'research' as const }, { id: 'research-2', preset: 'research' as const },
    { id: 'research-3', preset: 'research' as const }, { id: 'coding-1', preset: 'coding' as const },
    { id: 'coding-2', preset: 'coding' as const },
  ];
  for (const session of sessions) {
    const lines: string[] = [];
    let previous: { question: string; answer: string } | null = null;
    for (let turn = 0; turn < 20; turn++) {
      clock += 60;
      const question = `question ${session.id} ${turn}: ${sentence()}`;
      const slots = session.preset === 'research' ? RESEARCH : CODING;
      const outputs: (string | null)[] = [];
      const errors: (string | null)[] = [];
      const answerParts: string[] = [];
      let flakyFailed: string | undefined;
      if (session.preset === 'research') {
        const [c1, c2, c3, cFiller] = [sentence(), sentence(), sentence(), sentence()];
        const [a1, a2, aFiller] = [sentence(), sentence(), sentence()];
        outputs.push(`${c1} ${c2} ${c3} ${cFiller}`, a1, `${a1} ${a2} ${aFiller}`, `${sentence()} ${sentence()}`);
        errors.push(null, null, null, null);
        answerParts.push(c1, c2, c3, a1, a2);
      } else {
        flakyFailed = flakyFails.get(codingIndex);
        const [s1, f1, g1] = [sentence(), sentence(), sentence()];
        outputs.push(`${s1} ${sentence()}`, flakyFailed ? `[failed: ${flakyFailed}]` : `${f1} ${sentence()}`, `${g1} ${sentence()}`);
        errors.push(null, flakyFailed ?? null, null);
        answerParts.push(s1, ...(flakyFailed ? [] : [f1]), g1);
        codingIndex += 1;
      }
      answerParts.push(sentence());
      const answer = answerParts.join(' ');

      // Timing: every reference starts at the turn's start.
      const start = clock;
      const durations = slots.map(() => 800 + int(1200));
      if (session.preset === 'coding') {
        const othersMax = Math.max(durations[1] as number, durations[2] as number);
        const wait = 1500 + int(400);
        durations[0] = othersMax + wait;
        slotTruth('coding/e:slow').waits.push(wait);
      }
      const refsEnd = Math.max(...durations);
      const aggDuration = 500 + int(500);
      const toolLoop = session.id === 'coding-2' && TOOL_LOOP_TURNS.has(turn);

      const references = slots.map((slot, i) => {
        const failed = errors[i] !== null;
        const key = `${session.preset}/${slot.label}`;
        const t = slotTruth(key);
        t.calls += 1;
        t.userTurns += 1;
        if (failed) t.failures += 1;
        else {
          t.costMicro += slot.costMicro;
          truth.totalMicro += slot.costMicro;
          truth.presetMicro[session.preset] = (truth.presetMicro[session.preset] as number) + slot.costMicro;
        }
        const [provider, model] = slot.label.split(':') as [string, string];
        return {
          label: slot.label, model, provider, temperature: null,
          input_messages: [{ role: 'system', content: 'You advise.' }, { role: 'user', content: question }],
          output: outputs[i],
          usage: { input_tokens: 100, output_tokens: failed ? 0 : 50, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0 },
          cost_usd: failed ? null : slot.costMicro / MICRO,
          cost_status: failed ? null : 'actual',
          cost_source: failed ? null : 'provider',
          started_at: start,
          ended_at: start + (durations[i] as number) / 1000,
          duration_ms: durations[i],
          ...(failed ? { error: errors[i] } : {}),
        };
      });
      const aggMicro = AGGREGATOR_MICRO[session.preset];
      truth.totalMicro += aggMicro;
      truth.presetMicro[session.preset] = (truth.presetMicro[session.preset] as number) + aggMicro;
      truth.userTurns[session.preset] = (truth.userTurns[session.preset] as number) + 1;
      truth.iterations[session.preset] = (truth.iterations[session.preset] as number) + 1;
      if (toolLoop) truth.unrecorded += 1;
      else truth.answerLatencies[session.preset]?.push(refsEnd + aggDuration);

      const history = previous
        ? [{ role: 'user', content: previous.question }, { role: 'assistant', content: previous.answer }]
        : [];
      const record = {
        ts: start + (refsEnd + aggDuration) / 1000 + 0.01,
        session_id: session.id,
        preset: session.preset,
        references,
        aggregator: {
          label: 'z:boss', model: 'boss', provider: 'z', temperature: null,
          input_messages: [
            { role: 'system', content: 'You answer.' }, ...history, { role: 'user', content: question },
            { role: 'user', content: 'Advice from the references: ...' },
          ],
          output: toolLoop ? null : answer,
          streamed: false,
          output_location: 'inline',
          usage: { input_tokens: 400, output_tokens: 120, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0 },
          cost_usd: aggMicro / MICRO, cost_status: 'actual', cost_source: 'provider',
          started_at: start + refsEnd / 1000,
          ended_at: start + (refsEnd + aggDuration) / 1000,
          duration_ms: aggDuration,
          ...(toolLoop ? { tool_calls: [{ id: `call_${turn}`, type: 'function', function: { name: 'search', arguments: '{}' } }], finish_reason: 'tool_calls' } : { finish_reason: 'stop' }),
        },
        trace_id: null,
        started_at: start,
        duration_ms: refsEnd + aggDuration,
        cache: 'miss',
        fanout: 'user_turn',
        iteration: 1,
      };
      lines.push(JSON.stringify(record));
      // The tool loop's final answer came from an unrecorded HIT; the next request repeats it.
      previous = { question, answer };
    }
    const file = path.join(dir, `${session.id}.jsonl`);
    writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
    truth.files.push(file);
  }
  return truth;
}

/** Nearest-rank quantile, the definition insights documents. */
export function nearestRank(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] as number;
}
