/**
 * Deterministic text overlap between a MoA turn's final answer and its
 * reference outputs: which reference the answer drew on, what it would lose
 * without one, and which two references say the same thing. No model calls,
 * no I/O; used by `insights` offline and meant for the live aggregator span.
 *
 * Texts are compared as SETS of hashed word n-grams ("shingles"):
 *
 * - Normalization: NFKC (full-width letters, ligatures, compatibility digits
 *   become their plain forms), then lower case with the two full case folds
 *   lower-casing misses (`ß` → `ss`, final `ς` → `σ`).
 * - Words: maximal runs of letters, digits and combining marks of any script
 *   (Latin, Cyrillic, Greek, Arabic, Hangul, ...). Punctuation, symbols and
 *   emoji separate words and are not content. Scripts written without spaces
 *   (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar) give one word per
 *   character, so an n-gram there is n consecutive characters — a character
 *   3-gram is about one to two Chinese or Japanese words, the same order of
 *   specificity as a word 3-gram in English, and needs no dictionary.
 * - N-grams: `n` consecutive words (default 3). Bigrams match too much by
 *   chance in ordinary prose ("of the", "it is"); 4-grams and longer miss
 *   the light rewording an aggregator applies when it merges advice.
 * - Measure: containment, |A ∩ B| / |A| (share of A's n-grams found in B),
 *   not Jaccard |A ∩ B| / |A ∪ B|: an answer that uses one paragraph of a long
 *   reference used it fully, and Jaccard would score it low for the
 *   reference's length alone.
 *
 * Cost: one pass over at most `maxChars` UTF-16 units of each text (a longer
 * text is measured on its beginning and marked `truncated`), and a set of at
 * most that many 53-bit hashes, so time is linear and memory bounded per
 * text. Hash collisions are ~n²/2^54: invisible in shares.
 */
import { keptChars } from './truncation.js';

export const DEFAULT_NGRAM_SIZE = 3;
/** Beyond this many UTF-16 units of one text only the beginning is measured. */
export const DEFAULT_MAX_TEXT_CHARS = 200_000;

export interface TextOverlapOptions {
  /** Words per n-gram (1..8, default 3). */
  n?: number;
  /** Characters of a text measured (default 200,000). */
  maxChars?: number;
}

/** The n-grams of one text, hashed. */
export interface NGramSet {
  /** The hashed n-grams (53-bit integers). */
  readonly grams: ReadonlySet<number>;
  /** Words in the (measured part of the) text. */
  readonly words: number;
  /** The n the set was built with. */
  readonly n: number;
  /** True when the text was longer than `maxChars` and only its beginning was measured. */
  readonly truncated: boolean;
}

/** NFKC, lower case and the full folds lower-casing leaves out. */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/ß/g, 'ss').replace(/ς/g, 'σ');
}

const NO_SPACE_SCRIPTS = '\\p{scx=Han}\\p{scx=Hiragana}\\p{scx=Katakana}\\p{scx=Thai}\\p{scx=Lao}\\p{scx=Khmer}\\p{scx=Myanmar}';
// A letter or digit of a script written without spaces (the lookahead keeps out the CJK punctuation those scripts share).
const NO_SPACE_CHAR = `(?=[\\p{L}\\p{N}])[${NO_SPACE_SCRIPTS}]`;
const WORD = new RegExp(`${NO_SPACE_CHAR}\\p{M}*|(?:(?!${NO_SPACE_CHAR})[\\p{L}\\p{N}\\p{M}])+`, 'gu');

/** The words of a text after normalization (for tests and explanations; `ngramSet` does not build this array). */
export function words(text: string, options: TextOverlapOptions = {}): string[] {
  const measured = text.slice(0, keptChars(text, options.maxChars ?? DEFAULT_MAX_TEXT_CHARS));
  return Array.from(normalizeText(measured).matchAll(WORD), (m) => m[0]);
}

/** Builds the n-gram set of a text in one pass. */
export function ngramSet(text: string, options: TextOverlapOptions = {}): NGramSet {
  const n = clampN(options.n);
  const maxChars = options.maxChars ?? DEFAULT_MAX_TEXT_CHARS;
  const kept = keptChars(text, maxChars);
  const normalized = normalizeText(kept === text.length ? text : text.slice(0, kept));
  // A ring of the last n word hashes (two independent 32-bit FNV-1a per word).
  const ringA = new Uint32Array(n);
  const ringB = new Uint32Array(n);
  const grams = new Set<number>();
  let count = 0;
  for (const match of normalized.matchAll(WORD)) {
    const word = match[0];
    const slot = count % n;
    ringA[slot] = fnv(word, 0x811c9dc5);
    ringB[slot] = fnv(word, 0x050c5d1f);
    count += 1;
    if (count >= n) grams.add(gramHash(ringA, ringB, count, n));
  }
  return { grams, words: count, n, truncated: kept < text.length };
}

/**
 * Share of `part`'s n-grams that are also in `whole`, in [0, 1]; null when
 * `part` has none (a text shorter than n words says nothing measurable).
 */
export function containment(part: NGramSet, whole: NGramSet): number | null {
  if (part.grams.size === 0) return null;
  let shared = 0;
  for (const gram of part.grams) if (whole.grams.has(gram)) shared += 1;
  return shared / part.grams.size;
}

/** What the answer owes each reference (same order as the references given). */
export interface AnswerAttribution {
  /** n-grams in the answer (the denominator of every share below). */
  answerGrams: number;
  /** Per reference: share of the answer's n-grams found in it (null: reference absent or the answer unmeasurable). */
  agreement: (number | null)[];
  /** Per reference: share of the answer's n-grams found in it and in no other reference. */
  unique: (number | null)[];
  /** Share of the answer's n-grams found in no reference (the aggregator's own words). */
  unsourced: number | null;
}

/**
 * Agreement and unique contribution of every reference to one answer, in one
 * pass over the answer's n-grams. `null` stands for a reference with no
 * output (failed): it gets null shares and does not count as "another
 * reference" for the others' uniqueness.
 */
export function attributeAnswer(answer: NGramSet, references: readonly (NGramSet | null)[]): AnswerAttribution {
  const total = answer.grams.size;
  if (total === 0) {
    const none = references.map(() => null);
    return { answerGrams: 0, agreement: none, unique: [...none], unsourced: null };
  }
  const found = new Array<number>(references.length).fill(0);
  const alone = new Array<number>(references.length).fill(0);
  let unsourced = 0;
  for (const gram of answer.grams) {
    let holders = 0;
    let holder = -1;
    for (let i = 0; i < references.length; i++) {
      if (references[i]?.grams.has(gram)) {
        found[i] = (found[i] as number) + 1;
        holders += 1;
        holder = i;
      }
    }
    if (holders === 1) alone[holder] = (alone[holder] as number) + 1;
    else if (holders === 0) unsourced += 1;
  }
  return {
    answerGrams: total,
    agreement: references.map((ref, i) => (ref ? (found[i] as number) / total : null)),
    unique: references.map((ref, i) => (ref ? (alone[i] as number) / total : null)),
    unsourced: unsourced / total,
  };
}

/**
 * Pairwise redundancy of the references of one turn: `matrix[i][j]` is the
 * share of reference i's n-grams also found in reference j (containment, so
 * not symmetric: a short reference repeated inside a long one is redundant,
 * the long one is not). Diagonal and absent references are null.
 */
export function redundancyMatrix(references: readonly (NGramSet | null)[]): (number | null)[][] {
  return references.map((a, i) => references.map((b, j) => (i === j || !a || !b ? null : containment(a, b))));
}

function clampN(n: number | undefined): number {
  if (n === undefined || !Number.isFinite(n)) return DEFAULT_NGRAM_SIZE;
  return Math.min(8, Math.max(1, Math.trunc(n)));
}

function fnv(text: string, seed: number): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** The n-gram ending at word `count - 1`, oldest word first, as a 53-bit integer (21 + 32 bits). */
function gramHash(ringA: Uint32Array, ringB: Uint32Array, count: number, n: number): number {
  let a = 0x9e3779b9;
  let b = 0x85ebca6b;
  for (let k = 0; k < n; k++) {
    const slot = (count + k) % n;
    a = Math.imul(a ^ (ringA[slot] as number), 0x01000193);
    a ^= a >>> 15;
    b = Math.imul(b ^ (ringB[slot] as number), 0x5bd1e995);
    b ^= b >>> 13;
  }
  return (a >>> 11) * 0x1_0000_0000 + (b >>> 0);
}
