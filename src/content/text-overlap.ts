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
  const shape = collectGrams(text, options);
  const grams = new Set<number>();
  const { data, length } = SCRATCH;
  for (let i = 0; i < length; i++) grams.add(data[i] as number);
  return { grams, ...shape };
}

/**
 * Where the hashes of the last text's n-grams are written (one per thread:
 * each worker has its own module instance), grown as needed and reused so a
 * text costs no allocation per n-gram.
 */
const SCRATCH = { data: new Int32Array(4096), length: 0 };

function pushGram(hash: number): void {
  if (SCRATCH.length === SCRATCH.data.length) {
    const grown = new Int32Array(SCRATCH.data.length * 2);
    grown.set(SCRATCH.data);
    SCRATCH.data = grown;
  }
  SCRATCH.data[SCRATCH.length++] = hash;
}

/** Hashes every n-gram of a text into SCRATCH (repeats included), in one pass. */
function collectGrams(text: string, options: TextOverlapOptions): { words: number; n: number; truncated: boolean } {
  const n = clampN(options.n);
  const maxChars = options.maxChars ?? DEFAULT_MAX_TEXT_CHARS;
  const kept = keptChars(text, maxChars);
  const measured = kept === text.length ? text : text.slice(0, kept);
  SCRATCH.length = 0;
  // ASCII needs no normalization but lower case, which the scan does per character (no lower-cased copy).
  const words = NON_ASCII.test(measured) ? collectScanned(normalizeText(measured), n) : collectAscii(measured, n);
  return { words, n, truncated: kept < text.length };
}

// The hashes of the last words, word j at RING[j & RING_MASK] (n is at most 8).
const RING = new Int32Array(8);
const RING_MASK = 7;

/** One word's hash in: the n-gram it ends, once there are n words. Returns the new word count. */
function addWordHash(hash: number, count: number, n: number): number {
  RING[count & RING_MASK] = hash;
  const words = count + 1;
  if (words >= n) pushGram(gramHash(words, n));
  return words;
}

/** Per ASCII code: the code a word hashes (lower case for A-Z), or 0 for a separator. */
const ASCII_WORD_CODE = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) ASCII_WORD_CODE[c] = c;
  else if (c >= 0x41 && c <= 0x5a) ASCII_WORD_CODE[c] = c + 0x20;
}

/** The hot path (ASCII): lower case and hash while scanning, one table lookup per character, no callback per word. */
function collectAscii(text: string, n: number): number {
  let count = 0;
  let hash = FNV_OFFSET;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const code = ASCII_WORD_CODE[text.charCodeAt(i)] as number;
    if (code !== 0) {
      hash = Math.imul(hash ^ code, FNV_PRIME);
      inWord = true;
    } else if (inWord) {
      count = addWordHash(hash, count, n);
      hash = FNV_OFFSET;
      inWord = false;
    }
  }
  if (inWord) count = addWordHash(hash, count, n);
  return count;
}

/**
 * The words of a normalized text hashed as they are scanned: the same words as
 * `scanWords` (see it for the rules), without a callback or a second pass
 * per word, and ASCII characters classed by one table lookup.
 */
function collectScanned(text: string, n: number): number {
  const length = text.length;
  let count = 0;
  let hash = FNV_OFFSET;
  let inWord = false;
  let i = 0;
  while (i < length) {
    const code = text.charCodeAt(i);
    const packed = code < 0x80 ? (BMP_CLASSES[code] as number) | (1 << 4) : classAt(text, i);
    const cls = (packed & 0xf) as CharClass;
    const width = packed >> 4;
    if (cls === CharClass.Word || cls === CharClass.Mark) {
      // A mark continues a word, or starts one of its own (as a letter would): the same either way.
      hash = hashUnits(hash, text, i, width);
      inWord = true;
    } else if (cls === CharClass.NoSpace) {
      if (inWord) count = addWordHash(hash, count, n);
      // One word per character, with the marks that follow it.
      let own = hashUnits(FNV_OFFSET, text, i, width);
      let end = i + width;
      while (end < length) {
        const next = classAt(text, end);
        if ((next & 0xf) !== CharClass.Mark) break;
        own = hashUnits(own, text, end, next >> 4);
        end += next >> 4;
      }
      count = addWordHash(own, count, n);
      hash = FNV_OFFSET;
      inWord = false;
      i = end;
      continue;
    } else if (inWord) {
      count = addWordHash(hash, count, n);
      hash = FNV_OFFSET;
      inWord = false;
    }
    i += width;
  }
  if (inWord) count = addWordHash(hash, count, n);
  return count;
}

/** `hash` with the `width` (1 or 2) UTF-16 units at `at` folded in (FNV-1a per unit, as every word is hashed). */
function hashUnits(hash: number, text: string, at: number, width: number): number {
  let h = Math.imul(hash ^ text.charCodeAt(at), FNV_PRIME);
  if (width === 2) h = Math.imul(h ^ text.charCodeAt(at + 1), FNV_PRIME);
  return h;
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
function unmeasured(references: readonly unknown[]): AnswerAttribution {
  const none = references.map(() => null);
  return { answerGrams: 0, agreement: none, unique: [...none], unsourced: null };
}

/** Counts of the answer's `total` n-grams (found in, found only in, found in none) as shares. */
function shares(
  /** Only whether each is present (truthy) matters here. */
  references: readonly unknown[], total: number, found: readonly number[], alone: readonly number[], unsourced: number,
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

/** At most this many references are indexed (bits of a small integer). */
export const MAX_INDEXED_REFERENCES = 30;

/**
 * The references of one turn indexed straight from their texts, for a caller
 * that measures every record (`insights`): n-gram → bit mask of the
 * references holding it, in an open-addressing table of typed arrays — no
 * Set per text, no allocation per n-gram. The same numbers through
 * `attributeAnswerText` and `redundancyOfTexts` as `attributeAnswer` and
 * `redundancyMatrix` give over `ngramSet`s. At most MAX_INDEXED_REFERENCES
 * references.
 */
export interface TextIndex {
  /** Per reference: whether it had a text (null: no output, as in `attributeAnswer`). */
  readonly present: readonly boolean[];
  /** Per reference: its distinct n-grams. */
  readonly sizes: readonly number[];
  /** n-gram + 1 per slot, EMPTY (0) where none: a new table is empty as allocated. */
  readonly keys: Int32Array;
  /** References holding the slot's n-gram, one bit each. */
  readonly masks: Int32Array;
  /** `shared[i * references + j]`: distinct n-grams references i and j both hold (counted as they are indexed). */
  readonly shared: Int32Array;
}

const EMPTY = 0;

/**
 * `reuse`: an index the caller no longer needs, whose tables are cleared and
 * filled again when they are large enough (it must not be used after this).
 */
export function indexReferenceTexts(texts: readonly (string | null)[], options: TextOverlapOptions = {}, reuse?: TextIndex): TextIndex {
  if (texts.length > MAX_INDEXED_REFERENCES) throw new RangeError(`at most ${MAX_INDEXED_REFERENCES} references can be indexed`);
  // Sized for the texts up front (about an n-gram per word of five characters with its separator, half full): growing is the exception.
  let chars = 0;
  for (const text of texts) if (text !== null) chars += Math.min(text.length, options.maxChars ?? DEFAULT_MAX_TEXT_CHARS);
  const capacity = Math.min(1 << 22, capacityFor(chars / 5));
  let table: GramTable;
  if (reuse && reuse.keys.length >= capacity && reuse.keys.length <= capacity * 4) {
    // Mutable again: the caller handed it back.
    table = { keys: reuse.keys, masks: reuse.masks };
    table.keys.fill(EMPTY);
    table.masks.fill(0);
  } else table = newTable(capacity);
  let used = 0;
  const sizes = texts.map(() => 0);
  const k = texts.length;
  const shared = new Int32Array(k * k);
  texts.forEach((text, i) => {
    if (text === null) return;
    collectGrams(text, options);
    const bit = 1 << i;
    const { data, length } = SCRATCH;
    for (let g = 0; g < length; g++) {
      // Kept under half full: probes stay short.
      if ((used + 1) * 2 > table.keys.length) table = grown(table);
      const gram = data[g] as number;
      const slot = slotOf(table.keys, gram);
      if (table.keys[slot] === EMPTY) {
        table.keys[slot] = gram + 1;
        used += 1;
      }
      const mask = table.masks[slot] as number;
      if ((mask & bit) === 0) {
        table.masks[slot] = mask | bit;
        sizes[i] = (sizes[i] as number) + 1;
        // The references indexed before this one that hold it share it with this one.
        for (let m = mask, j = 0; m !== 0; m >>>= 1, j++) {
          if (m & 1) {
            shared[i * k + j] = (shared[i * k + j] as number) + 1;
            shared[j * k + i] = (shared[j * k + i] as number) + 1;
          }
        }
      }
    }
  });
  return { present: texts.map((t) => t !== null), sizes, keys: table.keys, masks: table.masks, shared };
}

/** `attributeAnswer(ngramSet(answer), <the references' sets>)` over an index of their texts. */
export function attributeAnswerText(answer: string, index: TextIndex, options: TextOverlapOptions = {}): AnswerAttribution {
  const { present } = index;
  collectGrams(answer, options);
  const distinct = distinctScratch();
  const total = distinct.length;
  if (total === 0) return unmeasured(present);
  const found = new Array<number>(present.length).fill(0);
  const alone = new Array<number>(present.length).fill(0);
  let unsourced = 0;
  for (let g = 0; g < total; g++) {
    const gram = distinct[g] as number;
    const slot = slotOf(index.keys, gram);
    const mask = index.keys[slot] === gram + 1 ? (index.masks[slot] as number) : 0;
    if (mask === 0) {
      unsourced += 1;
      continue;
    }
    for (let m = mask, i = 0; m !== 0; m >>>= 1, i++) if (m & 1) found[i] = (found[i] as number) + 1;
    if ((mask & (mask - 1)) === 0) {
      const i = 31 - Math.clz32(mask);
      alone[i] = (alone[i] as number) + 1;
    }
  }
  return shares(present, total, found, alone, unsourced);
}

/** `redundancyMatrix` of the indexed references, from the counts the index kept. */
export function redundancyOfTexts(index: TextIndex): (number | null)[][] {
  const { present, sizes, shared } = index;
  const k = present.length;
  return present.map((a, i) => present.map((b, j) => {
    if (i === j || !a || !b || sizes[i] === 0) return null;
    return (shared[i * k + j] as number) / (sizes[i] as number);
  }));
}

interface GramTable { keys: Int32Array; masks: Int32Array }

function newTable(capacity: number): GramTable {
  return { keys: new Int32Array(capacity), masks: new Int32Array(capacity) };
}

/** The smallest power of two at least twice `entries` (and at least 64). */
function capacityFor(entries: number): number {
  let capacity = 64;
  while (capacity < entries * 2) capacity *= 2;
  return capacity;
}

/** The slot of `gram`, or the empty slot where it would go (linear probing; the hashes are already mixed). */
function slotOf(keys: Int32Array, gram: number): number {
  const mask = keys.length - 1;
  const stored = gram + 1;
  let slot = gram & mask;
  for (;;) {
    const key = keys[slot] as number;
    if (key === stored || key === EMPTY) return slot;
    slot = (slot + 1) & mask;
  }
}

function grown(table: GramTable): GramTable {
  const next = newTable(table.keys.length * 2);
  for (let slot = 0; slot < table.keys.length; slot++) {
    const key = table.keys[slot] as number;
    if (key === EMPTY) continue;
    const at = slotOf(next.keys, key - 1);
    next.keys[at] = key;
    next.masks[at] = table.masks[slot] as number;
  }
  return next;
}

/**
 * The distinct values of SCRATCH, compacted at its start (returned as a
 * view): a reused table marks what was seen with a generation number, so it
 * is never cleared.
 */
function distinctScratch(): Int32Array {
  const { data, length } = SCRATCH;
  if (SEEN.keys.length < length * 2) {
    let capacity = SEEN.keys.length;
    while (capacity < length * 2) capacity *= 2;
    SEEN.keys = new Int32Array(capacity);
    SEEN.stamps = new Int32Array(capacity);
    SEEN.generation = 0;
  }
  SEEN.generation += 1;
  if (SEEN.generation === 0x7fffffff) {
    SEEN.stamps.fill(0);
    SEEN.generation = 1;
  }
  const { keys, stamps, generation } = SEEN;
  const mask = keys.length - 1;
  let distinct = 0;
  for (let g = 0; g < length; g++) {
    const gram = data[g] as number;
    let slot = gram & mask;
    for (;;) {
      if (stamps[slot] !== generation) {
        stamps[slot] = generation;
        keys[slot] = gram;
        data[distinct++] = gram;
        break;
      }
      if (keys[slot] === gram) break;
      slot = (slot + 1) & mask;
    }
  }
  return data.subarray(0, distinct);
}

const SEEN = { keys: new Int32Array(4096), stamps: new Int32Array(4096), generation: 0 };

function clampN(n: number | undefined): number {
  if (n === undefined || !Number.isFinite(n)) return DEFAULT_NGRAM_SIZE;
  return Math.min(8, Math.max(1, Math.trunc(n)));
}

/**
 * The n-gram ending at word `count - 1`, oldest word first, as a 30-bit
 * integer: small integers live in the Set without an allocation each.
 */
function gramHash(count: number, n: number): number {
  let h = 0x9e3779b9 | 0;
  for (let k = count - n; k < count; k++) {
    h = Math.imul(h ^ (RING[k & RING_MASK] as number), 0x5bd1e995);
    h ^= h >>> 15;
  }
  return h & 0x3fffffff;
}
