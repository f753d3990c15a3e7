/**
 * Redaction cost per MB of text with `redact: true`: ordinary conversation
 * text, and the near misses that make a backtracking pattern slow
 * (redaction-inputs.ts), for the whole policy and for each built-in pattern
 * alone. Linearity as a ratio: twice the adversarial text must cost less than
 * three times as much (the test checks the same with a wider step).
 * Times are the process's CPU time, best of a few passes.
 */
import { BUILTIN_PATTERNS, EMAIL_PATTERN, Redactor } from './bench-deps.js';
import { ADVERSARIAL_CELLS, adversarialText, normalText } from './redaction-inputs.js';

const MB = 1 << 20;

export interface RedactionBenchResult {
  normalMsPerMb: number;
  adversarialMsPerMb: number;
  /** CPU time on 2× the adversarial text over time on 1×. */
  adversarialGrowth: number;
  /** Per built-in pattern alone: its slowest near miss, in ms per MB. */
  perPattern: Array<{ name: string; worstMsPerMb: number; worstCell: string }>;
}

/** Best CPU time of `rounds` passes over `text`, in ms. */
function cpuMs(redactor: { text(input: string): string }, text: string, rounds: number): number {
  redactor.text(text); // compile to native code before timing
  let best = Infinity;
  for (let round = 0; round < rounds; round++) {
    const start = process.cpuUsage();
    redactor.text(text);
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

export function runRedactionBench(options: { bytes?: number; rounds?: number } = {}): RedactionBenchResult {
  const bytes = options.bytes ?? MB;
  const rounds = options.rounds ?? 5;
  const perMb = (ms: number, size: number) => (ms * MB) / size;
  const policy = Redactor.from(true);

  const normalMsPerMb = perMb(cpuMs(policy, normalText(bytes), rounds), bytes);
  const everything = Object.values(ADVERSARIAL_CELLS).flat();
  const once = cpuMs(policy, adversarialText(everything, bytes), rounds);
  const twice = cpuMs(policy, adversarialText(everything, 2 * bytes), rounds);

  const perPattern = [...BUILTIN_PATTERNS, EMAIL_PATTERN].map((pattern) => {
    const alone = Redactor.fromPatterns([pattern.regex]);
    let worstMsPerMb = 0;
    let worstCell = '';
    for (const cell of ADVERSARIAL_CELLS[pattern.name] ?? []) {
      const cost = perMb(cpuMs(alone, adversarialText([cell], bytes), rounds), bytes);
      if (cost > worstMsPerMb) {
        worstMsPerMb = cost;
        worstCell = cell;
      }
    }
    return { name: pattern.name, worstMsPerMb, worstCell };
  });

  return { normalMsPerMb, adversarialMsPerMb: perMb(once, bytes), adversarialGrowth: twice / once, perPattern };
}

export function formatRedactionBench(result: RedactionBenchResult, verdict: (ratio: number, target: number) => string): string {
  const lines = [
    `  normal text                 ${result.normalMsPerMb.toFixed(2).padStart(8)} ms/MB`,
    `  adversarial, all patterns   ${result.adversarialMsPerMb.toFixed(2).padStart(8)} ms/MB  2x text costs ${result.adversarialGrowth.toFixed(2)}x  ${verdict(result.adversarialGrowth, 3)}`,
    '  adversarial, each pattern alone (slowest near miss):',
    ...result.perPattern.map((p) => `    ${p.name.padEnd(34)} ${p.worstMsPerMb.toFixed(2).padStart(8)} ms/MB  on ${JSON.stringify(p.worstCell.slice(0, 28))}`),
  ];
  return lines.join('\n');
}
