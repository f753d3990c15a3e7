import { describe, expect, it } from 'vitest';
import {
  attributeAnswerText, indexReferenceTexts, MAX_INDEXED_REFERENCES, redundancyOfTexts,
  attributeAnswer, containment, ngramSet, normalizeText, redundancyMatrix, words,
} from '../../src/content/text-overlap.js';

describe('normalization and words', () => {
  it('folds compatibility forms and case in every script', () => {
    expect(normalizeText('ＦＵＬＬ ﬁle Straße ΟΔΟΣ Привет')).toBe('full file strasse οδοσ привет');
    expect(words('Hello, WORLD! 42 times…')).toEqual(['hello', 'world', '42', 'times']);
    expect(words('Съешь же ещё этих мягких французских булок')).toEqual(
      ['съешь', 'же', 'ещё', 'этих', 'мягких', 'французских', 'булок']);
  });

  it('splits scripts written without spaces into characters and drops their punctuation', () => {
    expect(words('東京は、日本の首都です。')).toEqual(['東', '京', 'は', '日', '本', 'の', '首', '都', 'で', 'す']);
    expect(words('カタカナー')).toEqual(['カ', 'タ', 'カ', 'ナ', 'ー']);
    // Hangul is written with spaces: words stay words.
    expect(words('서울은 한국의 수도')).toEqual(['서울은', '한국의', '수도']);
    // Mixed: a Latin word glued to Han characters still splits at the script change.
    expect(words('API接口')).toEqual(['api', '接', '口']);
  });

  it('treats emoji (ZWJ sequences, flags, skin tones) as separators, never splitting or keeping a half', () => {
    expect(words('great👍🏽idea 👨‍👩‍👧 ok🇫🇷go')).toEqual(['great', 'idea', 'ok', 'go']);
    expect(ngramSet('🎉🎉🎉🎉').grams.size).toBe(0);
  });

  it('keeps combining marks with their letter (decomposed input equals composed)', () => {
    expect(words('Cafe\u0301 naïve')).toEqual(words('Café nai\u0308ve'));
    expect(words('Café')).toEqual(['café']);
  });
});

describe('n-gram sets', () => {
  it('holds one hash per distinct word trigram, order-sensitive', () => {
    const set = ngramSet('a b c d a b c');
    expect(set.words).toBe(7);
    expect(set.grams.size).toBe(4); // abc, bcd, cda, dab (abc repeats)
    expect(containment(ngramSet('c b a'), ngramSet('a b c'))).toBe(0);
    expect(containment(ngramSet('A, B; C!'), ngramSet('a b c'))).toBe(1);
  });

  it('ASCII text (its fast path) and text with other characters hash the same words alike', () => {
    const ascii = ngramSet('The quick brown fox, jumps over: the lazy dog');
    const mixed = ngramSet('the quick brown fox jumps over the lazy dog — très vite');
    expect(containment(ascii, mixed)).toBe(1);
    expect(ascii.words).toBe(9);
    expect(mixed.words).toBe(11);
  });

  it('a text shorter than n words has no n-grams and no measurable share', () => {
    const short = ngramSet('yes ok');
    expect(short.grams.size).toBe(0);
    expect(containment(short, ngramSet('yes ok fine'))).toBeNull();
    expect(ngramSet('yes ok', { n: 2 }).grams.size).toBe(1);
  });

  it('is bounded: only maxChars of a text are measured, and it says so', () => {
    const long = 'word '.repeat(10_000);
    const set = ngramSet(long, { maxChars: 1000 });
    expect(set.truncated).toBe(true);
    expect(set.words).toBe(200);
    expect(ngramSet('a b c').truncated).toBe(false);
    // A surrogate pair at the cut is not split into a lone half.
    expect(() => ngramSet('ab 😀', { maxChars: 4 })).not.toThrow();
  });

  it('hashes the same words `words` finds, in any mix of scripts, marks and broken surrogates', () => {
    // The module's 1-gram hash restated: FNV-1a over the word's UTF-16 units, mixed once.
    const oneGram = (word: string): number => {
      let hash = 0x811c9dc5 | 0;
      for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word.charCodeAt(i), 0x01000193);
      let h = Math.imul((0x9e3779b9 | 0) ^ hash, 0x5bd1e995);
      h ^= h >>> 15;
      return h & 0x3fffffff;
    };
    const pieces = ['a', 'B', 'é', 'e\u0301', '\u0301', '\u0903', 'ß', 'ẞ', 'Σ', 'ς', '日', 'カ', '\u3099', 'ｶ', 'ﬁ', '①',
      'ก', '\u0e31', '한', '\u1161', ' ', '.', '—', '😀', '𠀀', '\ud800', '\udc00', 'İ', 'x\u0308', '٣', 'ا', '\u200d', '9', 'Ⅻ', 'ǅ'];
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let t = 0; t < 500; t++) {
      let text = '';
      for (let i = Math.floor(next() * 30); i > 0; i--) text += pieces[Math.floor(next() * pieces.length)];
      const found = words(text);
      const set = ngramSet(text, { n: 1 });
      expect(set.words, JSON.stringify(text)).toBe(found.length);
      const expected = new Set(found.map(oneGram));
      expect([...set.grams].sort(), JSON.stringify(text)).toEqual([...expected].sort());
    }
  });

  it('matches CJK text by character n-grams', () => {
    const answer = ngramSet('東京は日本の首都です');
    expect(containment(answer, ngramSet('答え：東京は日本の首都です。'))).toBe(1);
    expect(containment(answer, ngramSet('大阪は大きな都市です'))).toBeLessThan(0.2);
  });
});

describe('attribution and redundancy', () => {
  const answer = ngramSet('the capital of france is paris and it lies on the seine river');
  const carrier = ngramSet('i think the capital of france is paris and it lies on the seine');
  const echo = ngramSet('the capital of france is paris');
  const stray = ngramSet('bananas are yellow fruits rich in potassium');

  it('agreement is the share of the answer found in a reference; unique counts only what no other reference has', () => {
    const result = attributeAnswer(answer, [carrier, echo, stray, null]);
    // answer: 13 words, 11 trigrams; carrier has 10 of them, echo 4 (all also in carrier).
    expect(result.answerGrams).toBe(11);
    expect(result.agreement).toEqual([10 / 11, 4 / 11, 0, null]);
    expect(result.unique).toEqual([6 / 11, 0, 0, null]);
    expect(result.unsourced).toBeCloseTo(1 / 11);
  });

  it('an unmeasurable answer gives null shares, never NaN', () => {
    const result = attributeAnswer(ngramSet('ok'), [carrier, null]);
    expect(result).toEqual({ answerGrams: 0, agreement: [null, null], unique: [null, null], unsourced: null });
  });

  it('redundancy is containment of one reference in another (a repeat inside a longer text is redundant, not the reverse)', () => {
    const matrix = redundancyMatrix([carrier, echo, stray, null]);
    expect(matrix[1]?.[0]).toBe(1);
    expect(matrix[0]?.[1]).toBeCloseTo(4 / 12);
    expect(matrix[2]?.[0]).toBe(0);
    expect(matrix[0]?.[0]).toBeNull();
    expect(matrix[3]).toEqual([null, null, null, null]);
  });

  it('the text index (typed-array table, no Set per text) gives exactly what the Set-based measures give', () => {
    // Deterministic adversarial texts: upper case, mixed scripts, repeats, one-letter words (more n-grams than the table is sized for).
    let x = 7;
    const next = () => { x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0; return x; };
    const pool = ['Paris', 'seine', 'ÉTÉ', 'straße', 'ＦＵＬＬ', '東京は', 'Привет', 'a', 'b', 'c', 'x1', 'Q', 'naïve', 'Cafe\u0301', 'ok', '—', '🎉', 'DATA', 'data'];
    const text = (words: number) => Array.from({ length: words }, () => pool[next() % pool.length]).join(next() % 3 ? ' ' : ', ');
    const oneLetters = Array.from({ length: 4000 }, (_, i) => 'abcdefgh'[(i * 7) % 8]).join(' ');
    for (let round = 0; round < 60; round++) {
      for (const n of [1, 2, 3, 5]) {
        const texts: (string | null)[] = Array.from({ length: 1 + (round % 5) }, (_, k) => (k === 2 && round % 2 ? null : text(5 + (next() % 300))));
        if (round === 7) texts.push(oneLetters);
        const answer = round % 11 === 0 ? 'ok' : `${texts[0] ?? ''} ${text(40)} ${round === 7 ? oneLetters.slice(0, 3000) : ''}`;
        const sets = texts.map((t) => (t === null ? null : ngramSet(t, { n })));
        const index = indexReferenceTexts(texts, { n });
        expect(attributeAnswerText(answer, index, { n })).toEqual(attributeAnswer(ngramSet(answer, { n }), sets));
        expect(redundancyOfTexts(index)).toEqual(redundancyMatrix(sets));
        expect(index.sizes).toEqual(sets.map((s) => s?.grams.size ?? 0));
      }
    }
    expect(() => indexReferenceTexts(Array.from({ length: MAX_INDEXED_REFERENCES + 1 }, () => 'a b c'))).toThrow(RangeError);
    // A handed-back index is cleared before reuse: nothing of the earlier texts leaks into the next turn's numbers.
    const before = indexReferenceTexts([text(300), text(300), text(300)]);
    const later = [text(280), null, text(260)];
    const reused = indexReferenceTexts(later, {}, before);
    expect(reused.keys).toBe(before.keys);
    const laterSets = later.map((t) => (t === null ? null : ngramSet(t)));
    expect(redundancyOfTexts(reused)).toEqual(redundancyMatrix(laterSets));
    const laterAnswer = `${later[0]} ${text(30)}`;
    expect(attributeAnswerText(laterAnswer, reused)).toEqual(attributeAnswer(ngramSet(laterAnswer), laterSets));
  });

  it('ASCII upper case hashes as its lower case, as the normalized text does', () => {
    expect([...ngramSet('The QUICK Brown fox JUMPS').grams]).toEqual([...ngramSet('the quick brown fox jumps').grams]);
    expect([...ngramSet('ÀB The QUICK Brown').grams]).toEqual([...ngramSet('àb the quick brown').grams]);
  });
});
