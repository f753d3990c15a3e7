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
 * most that many 30-bit hashes, so time is linear and memory bounded per
 * text. A hash collision makes an n-gram of one text match an unrelated one
 * of another with a probability of about (set size) / 2^30 per n-gram:
 * under 0.01 % for texts of 100,000 words, invisible in shares.
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
  /** The hashed n-grams (30-bit integers). */
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
  // Plain ASCII needs neither NFKC nor the special folds (the common case, and the hot path).
  if (!NON_ASCII.test(text)) return text.toLowerCase();
  return text.normalize('NFKC').toLowerCase().replace(/ß/g, 'ss').replace(/ς/g, 'σ');
}

const NON_ASCII = /[^\u0000-\u007f]/;
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const NO_SPACE_SCRIPTS = '\\p{scx=Han}\\p{scx=Hiragana}\\p{scx=Katakana}\\p{scx=Thai}\\p{scx=Lao}\\p{scx=Khmer}\\p{scx=Myanmar}';
const LETTER_OR_DIGIT = /^[\p{L}\p{N}]$/u;
const MARK = /^\p{M}$/u;
const NO_SPACE = new RegExp(`^[${NO_SPACE_SCRIPTS}]$`, 'u');

/** What a character is to the word scanner. */
const enum CharClass { Separator = 1, Word = 2, NoSpace = 3, Mark = 4 }

// Classes of the BMP, filled on first sight of each character (the regexes run once per distinct character).
const BMP_CLASSES = new Uint8Array(0x10000);
for (let c = 0; c < 0x80; c++) {
  BMP_CLASSES[c] = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) ? CharClass.Word : CharClass.Separator;
}

function classify(char: string): CharClass {
  if (MARK.test(char)) return CharClass.Mark;
  if (!LETTER_OR_DIGIT.test(char)) return CharClass.Separator;
  return NO_SPACE.test(char) ? CharClass.NoSpace : CharClass.Word;
}

/** The class of the character at i, packed with its width in UTF-16 units (`class | width << 4`: no object per character). */
function classAt(text: string, i: number): number {
  const code = text.charCodeAt(i);
  if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
    const low = text.charCodeAt(i + 1);
    if (low >= 0xdc00 && low <= 0xdfff) return classify(text.slice(i, i + 2)) | (2 << 4);
  }
  const known = BMP_CLASSES[code] as number;
  if (known !== 0) return known | (1 << 4);
  const cls = classify(String.fromCharCode(code));
  BMP_CLASSES[code] = cls;
  return cls | (1 << 4);
}

/**
 * Calls `onWord(start, end)` for every word of a normalized text, in order
 * (see the module comment for what a word is). No substrings are made.
 */
function scanWords(text: string, onWord: (start: number, end: number) => void): void {
  let start = -1;
  let i = 0;
  while (i < text.length) {
    const packed = classAt(text, i);
    const cls = (packed & 0xf) as CharClass;
    const width = packed >> 4;
    if (cls === CharClass.Word || (cls === CharClass.Mark && start >= 0)) {
      if (start < 0) start = i;
    } else if (cls === CharClass.NoSpace) {
      if (start >= 0) onWord(start, i);
      // One word per character, with the marks that follow it.
      let end = i + width;
      while (end < text.length) {
        const next = classAt(text, end);
        if ((next & 0xf) !== CharClass.Mark) break;
        end += next >> 4;
      }
      onWord(i, end);
      start = -1;
      i = end;
      continue;
    } else if (cls === CharClass.Mark) {
      // A mark with no letter before it starts a word of its own kind (as a letter would).
      start = i;
    } else if (start >= 0) {
      onWord(start, i);
      start = -1;
    }
    i += width;
  }
  if (start >= 0) onWord(start, text.length);
}

/** The words of a text after normalization (for tests and explanations; `ngramSet` does not build this array). */
export function words(text: string, options: TextOverlapOptions = {}): string[] {
  const normalized = normalizeText(text.slice(0, keptChars(text, options.maxChars ?? DEFAULT_MAX_TEXT_CHARS)));
  const out: string[] = [];
  scanWords(normalized, (start, end) => out.push(normalized.slice(start, end)));
  return out;
}

/** Builds the n-gram set of a text in one pass. */
export function ngramSet(text: string, options: TextOverlapOptions = {}): NGramSet {
  const n = clampN(options.n);
  const maxChars = options.maxChars ?? DEFAULT_MAX_TEXT_CHARS;
  const kept = keptChars(text, maxChars);
  const normalized = normalizeText(kept === text.length ? text : text.slice(0, kept));
  // A ring of the hashes of the last n words.
  const ring = new Int32Array(n);
  const grams = new Set<number>();
  let count = 0;
  const addWord = (hash: number) => {
    ring[count % n] = hash;
    count += 1;
    if (count >= n) grams.add(gramHash(ring, count, n));
  };
  if (!NON_ASCII.test(normalized)) {
    // The hot path (ASCII, already lower case): hash while scanning, no callback per word.
    let hash = FNV_OFFSET;
    let inWord = false;
    for (let i = 0; i < normalized.length; i++) {
      const c = normalized.charCodeAt(i);
      if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) {
        hash = Math.imul(hash ^ c, FNV_PRIME);
        inWord = true;
      } else if (inWord) {
        addWord(hash);
        hash = FNV_OFFSET;
        inWord = false;
      }
    }
    if (inWord) addWord(hash);
  } else {
    scanWords(normalized, (start, end) => {
      let hash = FNV_OFFSET;
      for (let i = start; i < end; i++) hash = Math.imul(hash ^ normalized.charCodeAt(i), FNV_PRIME);
      addWord(hash);
    });
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
  if (total === 0) return unmeasured(references);
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
  return shares(references, total, found, alone, unsourced);
}

/** An answer without n-grams: nothing can be said about what it owes. */
function unmeasured(references: readonly (NGramSet | null)[]): AnswerAttribution {
  const none = references.map(() => null);
  return { answerGrams: 0, agreement: none, unique: [...none], unsourced: null };
}

/** Counts of the answer's `total` n-grams (found in, found only in, found in none) as shares. */
function shares(
  references: readonly (NGramSet | null)[], total: number, found: readonly number[], alone: readonly number[], unsourced: number,
): AnswerAttribution {
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

/**
 * The references of one turn indexed once: each n-gram with the set of
 * references (a bit mask) that hold it. Attribution and redundancy then cost
 * one lookup per n-gram instead of one per n-gram and reference — the same
 * results as `attributeAnswer` and `redundancyMatrix`. At most
 * MAX_INDEXED_REFERENCES references (bits of a small integer).
 */
export interface ReferenceIndex {
  /** The references as given (null: no output). */
  readonly references: readonly (NGramSet | null)[];
  /** n-gram → bit mask of the references holding it. */
  readonly masks: ReadonlyMap<number, number>;
}

export const MAX_INDEXED_REFERENCES = 30;

export function indexReferences(references: readonly (NGramSet | null)[]): ReferenceIndex {
  if (references.length > MAX_INDEXED_REFERENCES) throw new RangeError(`at most ${MAX_INDEXED_REFERENCES} references can be indexed`);
  const masks = new Map<number, number>();
  references.forEach((ref, i) => {
    if (!ref) return;
    const bit = 1 << i;
    for (const gram of ref.grams) masks.set(gram, (masks.get(gram) ?? 0) | bit);
  });
  return { references, masks };
}

/** `attributeAnswer(answer, index.references)`, one lookup per n-gram of the answer. */
export function attributeIndexed(answer: NGramSet, index: ReferenceIndex): AnswerAttribution {
  const { references } = index;
  const total = answer.grams.size;
  if (total === 0) return unmeasured(references);
  const found = new Array<number>(references.length).fill(0);
  const alone = new Array<number>(references.length).fill(0);
  let unsourced = 0;
  for (const gram of answer.grams) {
    const mask = index.masks.get(gram) ?? 0;
    if (mask === 0) {
      unsourced += 1;
      continue;
    }
    for (let m = mask, i = 0; m !== 0; m >>>= 1, i++) if (m & 1) found[i] = (found[i] as number) + 1;
    // A single bit: only one reference holds it.
    if ((mask & (mask - 1)) === 0) {
      const i = 31 - Math.clz32(mask);
      alone[i] = (alone[i] as number) + 1;
    }
  }
  return shares(references, total, found, alone, unsourced);
}

/** `redundancyMatrix(index.references)`, in one pass over the indexed n-grams. */
export function redundancyIndexed(index: ReferenceIndex): (number | null)[][] {
  const { references } = index;
  const shared = references.map(() => new Array<number>(references.length).fill(0));
  for (const mask of index.masks.values()) {
    if ((mask & (mask - 1)) === 0) continue;
    for (let a = mask, i = 0; a !== 0; a >>>= 1, i++) {
      if (!(a & 1)) continue;
      const row = shared[i] as number[];
      for (let b = mask, j = 0; b !== 0; b >>>= 1, j++) if (b & 1 && j !== i) row[j] = (row[j] as number) + 1;
    }
  }
  return references.map((a, i) => references.map((b, j) => {
    if (i === j || !a || !b || a.grams.size === 0) return null;
    return ((shared[i] as number[])[j] as number) / a.grams.size;
  }));
}

function clampN(n: number | undefined): number {
  if (n === undefined || !Number.isFinite(n)) return DEFAULT_NGRAM_SIZE;
  return Math.min(8, Math.max(1, Math.trunc(n)));
}

/**
 * The n-gram ending at word `count - 1`, oldest word first, as a 30-bit
 * integer: small integers live in the Set without an allocation each.
 */
function gramHash(ring: Int32Array, count: number, n: number): number {
  let h = 0x9e3779b9 | 0;
  for (let k = 0; k < n; k++) {
    h = Math.imul(h ^ (ring[(count + k) % n] as number), 0x5bd1e995);
    h ^= h >>> 15;
  }
  return h & 0x3fffffff;
}
