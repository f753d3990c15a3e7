/**
 * The text of the benches' conversations: Latin, CJK, Cyrillic and emoji in
 * turn, so UTF-8 encoding and escaping cost what they cost users (1 to 4
 * bytes per character), seeded so both sides of a comparison get the same.
 */

/** Sentences in four scripts, taken in turn. */
export const MIXED_TEXTS: readonly string[] = [
  'The quick brown fox weighs the itinerary, the costs and the weather. ',
  '東京から大阪までの新幹線は約二時間半かかります。予約は早めに。 ',
  'Погода в Москве меняется быстро, возьмите зонт и тёплую куртку. ',
  'Trip plan ✈️🌍 — day 1: museums 🏛️, day 2: food 🍜🍣, day 3: rest 😴. ',
];

/** The same, with characters HTML must escape (`<`, `"`, `&`), for the report's page. */
export const MIXED_TEXTS_WITH_MARKUP: readonly string[] = [
  ...MIXED_TEXTS.slice(0, 3),
  'Trip plan ✈️🌍 — day 1: museums 🏛️, day 2: food 🍜🍣, day <3: "rest" & 😴. ',
];

/** `chars` characters starting at sentence `seed`, prefixed with the seed so no two texts are equal. */
export function mixedText(seed: number, chars: number, texts: readonly string[] = MIXED_TEXTS): string {
  let out = `#${seed} `;
  for (let i = seed; out.length < chars; i++) out += texts[i % texts.length];
  return out.slice(0, chars);
}

/** A chat message as agents send them (an index signature, so it is a `ChatMessage` too). */
export interface BenchMessage {
  [key: string]: unknown;
  role: 'user' | 'assistant';
  content: string;
}

/** `chars` characters of conversation in messages of about `perMessage` characters, user and assistant in turn, all new (seeded). */
export function conversation(seed: number, chars: number, perMessage: number, texts: readonly string[] = MIXED_TEXTS): BenchMessage[] {
  const messages: BenchMessage[] = [];
  for (let i = 0, size = 0; size < chars; i++) {
    const content = mixedText(seed * 1000 + i, Math.min(perMessage, chars - size), texts);
    messages.push({ role: i % 2 === 0 ? 'user' : 'assistant', content });
    size += content.length;
  }
  return messages;
}
