/**
 * Every built-in pattern runs in linear time, on the texts that make a
 * backtracking pattern slow (bench/redaction-inputs.ts): eight times the
 * input (8 KB to 64 KB, then 256 KB to 2 MB) must take less than 24 times
 * as long, measured in one run. A quadratic pattern takes 64 times as long
 * (the private-key pattern this replaced took 17.9 s on 896 KB of BEGIN
 * lines without an END). Time is the process's CPU time, so other
 * processes on the machine do not count; the wide margin is for the
 * hardware, not the patterns: a scan slows down per byte once the text
 * outgrows the CPU's L2 cache. No wall-clock limit: only the growth is
 * asserted.
 */
import { describe, expect, it } from 'vitest';
import { ADVERSARIAL_CELLS, adversarialText } from '../../bench/redaction-inputs.js';
import { Redactor } from '../../src/content/redact.js';
import { BUILTIN_PATTERNS, EMAIL_PATTERN, PHONE_NUMBER_PATTERN } from '../../src/content/secret-patterns.js';

const MB = 1 << 20;
const STEP = 8;
const BOUND = 24;

/**
 * CPU time of `reps` passes over `text`, in ms. CPU time, not wall time:
 * time spent waiting for a core that other processes hold is not counted.
 */
function cost(redactor: Redactor, text: string, reps: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < reps; i++) redactor.text(text);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/**
 * Time(STEP × bytes) / time(bytes). Cheap passes are repeated until a
 * measurement lasts about 2 ms, so timer resolution does not decide. Small
 * and large are timed in turn, five times, and the lowest ratio counts: a
 * garbage collection that hits the large text in one pair does not hit it
 * in all five, while a quadratic pattern shows 64× in every pair.
 */
function growth(redactor: Redactor, cells: readonly string[], bytes: number): number {
  const small = adversarialText(cells, bytes);
  const large = adversarialText(cells, STEP * bytes);
  redactor.text(small); // lets the engine compile the pattern to native code first
  const reps = Math.max(1, Math.ceil(2 / Math.max(cost(redactor, small, 1), 0.01)));
  let best = Infinity;
  for (let pair = 0; pair < 5; pair++) {
    const smallMs = cost(redactor, small, reps);
    best = Math.min(best, cost(redactor, large, reps) / smallMs);
  }
  return best;
}

describe('built-in redaction patterns run in linear time', () => {
  for (const pattern of [...BUILTIN_PATTERNS, EMAIL_PATTERN, PHONE_NUMBER_PATTERN]) {
    it(pattern.name, () => {
      const cells = ADVERSARIAL_CELLS[pattern.name];
      expect(cells, `no adversarial input for ${pattern.name} in bench/redaction-inputs.ts`).toBeDefined();
      const redactor = Redactor.fromPatterns([pattern.regex]);
      for (const cell of cells ?? []) {
        // Without a hint the pattern would be skipped, and only a substring search measured.
        expect(pattern.hints?.some((hint) => cell.includes(hint)) ?? true, JSON.stringify(cell)).toBe(true);
        // Small first: a quadratic pattern fails there in a second instead of blocking for minutes at 2 MB.
        for (const bytes of [8 * 1024, MB / 4]) {
          expect(growth(redactor, [cell], bytes), `${pattern.name} on ${JSON.stringify(cell.slice(0, 40))} from ${bytes} bytes`).toBeLessThan(BOUND);
        }
      }
    }, 60_000);
  }

  it('the whole policy, on every near miss at once', () => {
    const everything = Object.values(ADVERSARIAL_CELLS).flat();
    expect(growth(Redactor.from(true), everything, MB / 4)).toBeLessThan(BOUND);
  }, 60_000);
});

/**
 * User patterns a backtracking engine takes seconds to minutes on (measured
 * on V8: the e-mail regex 50 s and `.*password` 29 s on 128 KB, the
 * overlapping alternation 25 s on 40 characters), each with the near misses
 * that make it slow. They run on the linear-time engine now.
 */
const SLOW_ON_BACKTRACKING: readonly { pattern: RegExp; cells: readonly string[] }[] = [
  { pattern: /[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}/, cells: ['a'.repeat(64), 'x@y', 'b.'.repeat(20)] },
  { pattern: /.*password/i, cells: ['x'.repeat(64), 'passwor'] },
  { pattern: /(a|a)*b/, cells: ['a'.repeat(40) + 'c'] },
  { pattern: /(x+x+)+y/, cells: ['x'.repeat(40) + ' '] },
  { pattern: /(\w|\d)+@example\.com/, cells: ['1'.repeat(40) + '@example.org '] },
];

describe('user patterns run in linear time', () => {
  for (const { pattern, cells } of SLOW_ON_BACKTRACKING) {
    it(String(pattern), () => {
      const redactor = Redactor.from({ emails: false, patterns: [pattern] });
      expect(redactor.refusedPatterns).toEqual([]);
      for (const bytes of [8 * 1024, MB / 8]) {
        expect(growth(redactor, cells, bytes), `${pattern} from ${bytes} bytes`).toBeLessThan(BOUND);
      }
    }, 60_000);
  }
});
