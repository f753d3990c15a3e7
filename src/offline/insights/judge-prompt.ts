/**
 * What the insights judge asks and how its answer is read. The judge sees a
 * turn's final answer and its advisors' outputs (numbered, labels withheld so
 * a model name cannot sway it) and names the advisors whose substance the
 * answer used. The answer must be one JSON object; anything else is garbage,
 * recorded as such.
 *
 * Bump JUDGE_PROMPT_VERSION whenever the wording or the answer format
 * changes: it is part of the cache key, so old verdicts are not reused.
 */
export const JUDGE_PROMPT_VERSION = 1;

/** Each text is cut to this many characters (beginning and end kept) to bound a judge call's size and cost. */
export const JUDGE_TEXT_LIMIT = 6000;
/** The judge's answer is a short JSON object. */
export const JUDGE_MAX_TOKENS = 300;

const SYSTEM = [
  'You audit a mixture-of-agents turn. Several advisors each wrote advice; then a final model wrote the answer the user saw.',
  'Decide which advisors the final answer actually drew on: an advisor counts as used when the answer contains a point, fact, step or',
  'recommendation that appears in that advisor\'s text (in any wording). Generic phrasing that any advisor would write does not count.',
  'Reply with one JSON object and nothing else: {"used": [advisor numbers], "reason": "one short sentence"}.',
  'Use [] when the answer used none of them.',
].join(' ');

export interface JudgeMessage {
  role: 'system' | 'user';
  content: string;
}

function cut(text: string): string {
  if (text.length <= JUDGE_TEXT_LIMIT) return text;
  const half = Math.floor(JUDGE_TEXT_LIMIT / 2);
  return `${text.slice(0, half)}\n[… ${text.length - 2 * half} characters left out …]\n${text.slice(-half)}`;
}

/** The messages for one turn; advisors are numbered from 1 in the order given. */
export function judgeMessages(answer: string, advisorOutputs: readonly string[]): JudgeMessage[] {
  const advisors = advisorOutputs.map((text, i) => `<advisor number="${i + 1}">\n${cut(text)}\n</advisor>`).join('\n\n');
  return [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: `${advisors}\n\n<final_answer>\n${cut(answer)}\n</final_answer>\n\nWhich advisors did the final answer use?` },
  ];
}

/**
 * The advisor numbers (1-based, sorted, distinct) the judge named, or null
 * when its answer is not a verdict: no JSON object, no `used` array, or a
 * number outside 1..count.
 */
export function parseJudgeAnswer(text: string, count: number): number[] | null {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(start, end + 1));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const used = (parsed as { used?: unknown }).used;
  if (!Array.isArray(used)) return null;
  const numbers = new Set<number>();
  for (const value of used) {
    const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > count) return null;
    numbers.add(n);
  }
  return [...numbers].sort((a, b) => a - b);
}
