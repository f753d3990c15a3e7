/**
 * Refuses user-supplied redaction patterns that are obviously catastrophic:
 * a group that can repeat without bound and itself holds an unbounded
 * repetition (`(a+)+`, `(.*)*`, `(\w+\s?)*`, `(?:x|y+){2,}`). On a text that
 * almost matches, a backtracking engine tries every way of splitting the run
 * between the inner and the outer loop, which is exponential; redaction runs
 * on every message of every turn, so one such pattern would stall the agent.
 *
 * This is a syntactic check, not a proof: it catches the nested-quantifier
 * shape, the common way to write such a pattern. Overlapping alternatives
 * (`(a|a)*`) pass it.
 */

interface Frame {
  /** Something inside this group (at any depth) repeats without bound. */
  holdsUnbounded: boolean;
}

type Atom = { kind: 'group'; holdsUnbounded: boolean } | { kind: 'simple' } | { kind: 'none' };

/** The reason a pattern is refused, or undefined when it passes. */
export function catastrophicPatternReason(source: string): string | undefined {
  const frames: Frame[] = [{ holdsUnbounded: false }];
  let last: Atom = { kind: 'none' };
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    const top = frames[frames.length - 1] as Frame;
    if (c === '\\') {
      i += 2;
      last = { kind: 'simple' };
    } else if (c === '[') {
      i = endOfClass(source, i);
      last = { kind: 'simple' };
    } else if (c === '(') {
      frames.push({ holdsUnbounded: false });
      i = afterGroupOpening(source, i);
      last = { kind: 'none' };
    } else if (c === ')') {
      const closed = frames.length > 1 ? (frames.pop() as Frame) : { holdsUnbounded: false };
      const parent = frames[frames.length - 1] as Frame;
      parent.holdsUnbounded ||= closed.holdsUnbounded;
      last = { kind: 'group', holdsUnbounded: closed.holdsUnbounded };
      i++;
    } else if (c === '|') {
      last = { kind: 'none' };
      i++;
    } else {
      const quantifier = readQuantifier(source, i);
      if (quantifier) {
        if (quantifier.unbounded) {
          if (last.kind === 'group' && last.holdsUnbounded) {
            return 'a group holding *, + or {n,} is itself repeated by *, + or {n,} (like (a+)+), which can take exponential time on a near match; bound the inner repetition, e.g. {1,64}';
          }
          top.holdsUnbounded = true;
        }
        i = quantifier.end;
        // A quantified atom cannot be quantified again (that is a syntax error), so forget it.
        last = { kind: 'none' };
      } else {
        last = { kind: 'simple' };
        i++;
      }
    }
  }
  return undefined;
}

/** Index just past the `]` that closes the class opened at `start`. */
function endOfClass(source: string, start: number): number {
  let i = start + 1;
  if (source[i] === '^') i++;
  // In a JavaScript pattern `[]` is an empty class: a `]` right after `[` closes it.
  while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
  return i + 1;
}

/** Index just past `(`, `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!` or `(?<name>`. */
function afterGroupOpening(source: string, start: number): number {
  if (source[start + 1] !== '?') return start + 1;
  const kind = source[start + 2];
  if (kind === '<' && source[start + 3] !== '=' && source[start + 3] !== '!') {
    const close = source.indexOf('>', start + 3);
    return close < 0 ? source.length : close + 1;
  }
  return start + (kind === '<' ? 4 : 3);
}

function readQuantifier(source: string, i: number): { unbounded: boolean; end: number } | undefined {
  const c = source[i];
  const lazy = (end: number) => (source[end] === '?' ? end + 1 : end);
  if (c === '*' || c === '+') return { unbounded: true, end: lazy(i + 1) };
  if (c === '?') return { unbounded: false, end: i + 1 };
  if (c !== '{') return undefined;
  const braces = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i, i + 24));
  if (!braces) return undefined; // a literal `{`
  const unbounded = braces[2] !== undefined && braces[3] === '';
  return { unbounded, end: lazy(i + braces[0].length) };
}
