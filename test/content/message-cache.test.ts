/**
 * Each message serialized once per session, and the line built from the
 * cached pieces always byte-identical to `JSON.stringify` of the record with
 * the messages in place — on adversarial content, with `toJSON`, getters and
 * messages mutated between calls.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { GENERATION_MIN_CHARS, MessageCache, SessionMessageCaches } from '../../src/content/message-cache.js';
import { Redactor } from '../../src/content/redact.js';
import { encodeLine, RawSlots } from '../../src/export/json-line.js';

const nasty = fc.string({ unit: fc.constantFrom('a', 'é', '東', '🧭', '\u2028', '\u2029', '\u0000', '\u001f', '"', '\\', '\ud800', '\udfff', ' '), maxLength: 80 });
const key = fc.oneof(nasty, fc.constantFrom('role', 'content', '__proto__', 'toString', '0', '10', '1e3'));
const leaf = fc.oneof(
  nasty,
  fc.double(), // NaN, ±Infinity, -0, huge and tiny numbers
  fc.constantFrom(1e21, 1e-7, Number.MAX_VALUE, 2 ** 53 + 1, null, true, false, undefined),
);
const jsonish = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
})).value;

/** The state behind each getter message. */
const boxes = new WeakMap<object, { text: string }>();

/** A message, sometimes with a `toJSON`, a getter, or a Date inside. */
const message = fc.tuple(jsonish, fc.nat(5), nasty).map(([content, kind, text]) => {
  switch (kind) {
    case 0: return { role: 'user', content: text.repeat(10), extra: content };
    case 1: return { role: 'tool', toJSON: () => ({ role: 'tool', content: text }) };
    case 2: {
      // A getter over state the test changes between calls.
      const box = { text };
      const m = Object.defineProperty({ role: 'assistant' }, 'content', { enumerable: true, get: () => box.text });
      boxes.set(m, box);
      return m;
    }
    case 3: return { role: 'user', content: [{ type: 'text', text }, { when: new Date(0) }] };
    default: return content;
  }
});

/** The line for one call's messages, through the cache and the piece encoder. */
function lineOf(cache: MessageCache, messages: unknown[]): string {
  const slots = new RawSlots();
  const record = { ts: 1, input_messages: slots.holdMessages(cache.list(messages)), output: 'o' };
  return Buffer.concat(encodeLine(record, slots).chunks).toString('utf8');
}

function expected(messages: unknown[], replacer?: (k: string, v: unknown) => unknown): string {
  return `{"ts":1,"input_messages":${JSON.stringify(messages, replacer)},"output":"o"}`;
}

describe('message cache: lines stay byte-identical to JSON.stringify', () => {
  it('for any messages, in any order of calls, with mutations between calls', () => {
    fc.assert(fc.property(
      fc.array(message, { minLength: 1, maxLength: 6 }),
      fc.array(fc.tuple(fc.nat(), jsonish, nasty), { maxLength: 4 }),
      (messages, mutations) => {
        const cache = new MessageCache(undefined);
        // Snapshot semantics: what JSON.stringify reads at the time of the call.
        expect(lineOf(cache, messages)).toBe(expected(messages));
        expect(lineOf(cache, [...messages].reverse())).toBe(expected([...messages].reverse()));
        for (const [at, value, text] of mutations) {
          const target = messages[at % messages.length];
          const box = target !== null && typeof target === 'object' ? boxes.get(target) : undefined;
          if (box) {
            box.text = text;
          } else if (target !== null && typeof target === 'object') {
            (target as Record<string, unknown>).content = value;
            (target as Record<string, unknown>)[text] = text;
          } else {
            messages[at % messages.length] = value;
          }
          // Equal copies (another identity) and the originals, after the mutation.
          const copies = messages.map((m) => (m !== null && typeof m === 'object' && !Array.isArray(m) ? { ...m } : m));
          expect(lineOf(cache, copies)).toBe(expected(copies));
          expect(lineOf(cache, messages)).toBe(expected(messages));
        }
      },
    ), { numRuns: 300 });
  });

  it('with redaction, equals JSON.stringify with the same replacer', () => {
    const redactor = Redactor.from(true);
    const replacer = redactor.replacer as (k: string, v: unknown) => unknown;
    fc.assert(fc.property(fc.array(message, { minLength: 1, maxLength: 5 }), fc.constantFrom('sk-proj-abcdefghijklmnopqrstuvwxyz0123456789', 'me@example.com'), (messages, secret) => {
      const withSecret = [...messages, { role: 'user', content: `token ${secret} here` }];
      const cache = new MessageCache(replacer);
      const line = lineOf(cache, withSecret);
      expect(line).toBe(expected(withSecret, replacer));
      expect(line).not.toContain(secret);
    }), { numRuns: 100 });
  });

  it('a message mutated in place after it was cached is written as it reads now (cached bytes are never reused stale)', () => {
    const cache = new MessageCache(undefined);
    const m = { role: 'user', content: 'x'.repeat(200), parts: [{ text: 'a' }] };
    expect(lineOf(cache, [m])).toBe(expected([m]));
    m.parts[0]!.text = 'b';
    expect(lineOf(cache, [m])).toBe(expected([m]));
    m.content = `${'x'.repeat(199)}y`;
    expect(lineOf(cache, [m])).toBe(expected([m]));
  });

  it('boxed primitives are written as JSON.stringify reads them: from another realm, and with toString or valueOf replaced after caching', () => {
    const cache = new MessageCache(undefined);
    const foreign = runInNewContext('({ role: "user", s: new String("ab"), n: new Number(3), b: new Boolean(false) })') as object;
    expect(lineOf(cache, [foreign])).toBe(expected([foreign]));
    const text = new String('before');
    const count = new Number(1);
    const m = { role: 'user', text, count };
    expect(lineOf(cache, [m])).toBe(expected([m]));
    Object.assign(text, { toString: () => 'after' });
    Object.assign(count, { valueOf: () => 2 });
    expect(lineOf(cache, [m])).toBe(expected([m]));
    expect(expected([m])).toContain('"text":"after","count":2');
  });

  it('a message\'s own toJSON is called with its index in the list, as JSON.stringify calls it', () => {
    const cache = new MessageCache(undefined);
    const keyed = () => ({ toJSON: (key: string) => `at ${JSON.stringify(key)}` });
    const messages = [keyed(), { role: 'user', content: 'x' }, keyed()];
    expect(lineOf(cache, messages)).toBe(expected(messages));
    expect(expected(messages)).toContain('"at \\"2\\""');
  });

  it('a message serialized at once (a cycle, a BigInt) reads the same as JSON after its bytes were made or laid out elsewhere', () => {
    const cache = new MessageCache(undefined);
    const cyclic: Record<string, unknown> = { role: 'user', content: 'hi' };
    cyclic.self = cyclic;
    const list = cache.list([cyclic, { role: 'user', big: 10n }, { role: 'user', content: 'plain' }]);
    const before = cache.arrayJson(list);
    expect(before).toContain('[Circular]');
    // The line's encoder makes the bytes; a sink masking otherwise (or a line cut to fit) then asks for the text.
    for (const piece of list.pieces) piece.bytes(undefined);
    expect(cache.arrayJson(list)).toBe(before);
    const elsewhere = cache.list([cyclic]);
    elsewhere.pieces[0]!.adoptBytes(Buffer.from(`,${elsewhere.pieces[0]!.json(undefined)}`));
    expect(cache.arrayJson(elsewhere)).toBe(`[${JSON.stringify((JSON.parse(before) as unknown[])[0])}]`);
  });

  it('a line cut to fit keeps a message serialized at once as its text, not null', () => {
    const cache = new MessageCache(undefined);
    const cyclic: Record<string, unknown> = { role: 'user', content: 'keep me' };
    cyclic.self = cyclic;
    const slots = new RawSlots();
    const record = { ts: 1, long: 'x'.repeat(4000), input_messages: slots.holdMessages(cache.list([cyclic])) };
    const line = Buffer.concat(encodeLine(record, slots, { maxLineBytes: 1000 }).chunks).toString('utf8');
    expect(line.length).toBeLessThanOrEqual(1000);
    expect(JSON.parse(line).input_messages).toEqual([{ role: 'user', content: 'keep me', self: '[Circular]' }]);
  });

  it('serializes each message once: the same object, or an equal copy sharing its text, reuses the bytes', () => {
    const cache = new MessageCache(undefined);
    const history = Array.from({ length: 5 }, (_, i) => ({ role: 'user', content: `message ${i} ${'z'.repeat(100)}` }));
    const first = cache.list(history);
    const again = cache.list([...history]);
    const copies = cache.list(history.map((m) => ({ ...m })));
    first.pieces.forEach((piece, i) => {
      expect(again.pieces[i]).toBe(piece);
      expect(copies.pieces[i]).toBe(piece);
    });
    const bytes = first.pieces[0]!.bytes(undefined);
    expect(copies.pieces[0]!.bytes(undefined)).toBe(bytes);
  });

  it('long messages alike at both ends and in length (one look-up key) are still told apart', () => {
    const cache = new MessageCache(undefined);
    const ends = 'e'.repeat(40);
    const long = (middle: string) => ({ role: 'user', content: `${ends}${middle.repeat(500)}${ends}` });
    const [a, b, c] = [long('a'), long('b'), long('é')];
    expect(lineOf(cache, [a, b])).toBe(expected([a, b]));
    // Equal copies (other objects, other strings) of each: found by content, never taken for the other one.
    const copies = [{ ...b, content: `${b.content.slice(0, 1)}${b.content.slice(1)}` }, { ...a }, c];
    expect(lineOf(cache, copies)).toBe(expected(copies));
    // Sharing a key costs a look-up that misses, never a wrong line.
    const pieces = cache.list([a, b, { ...a }]).pieces;
    expect(pieces[0]).not.toBe(pieces[1]);
    expect(lineOf(cache, [{ ...a }, { ...c }, b])).toBe(expected([a, c, b]));
  });

  it('keeps a conversation used every turn, and lets go of text never seen again', () => {
    const cache = new MessageCache(undefined);
    const history: Array<{ role: string; content: string }> = [];
    let firstPiece: unknown;
    for (let turn = 0; turn < 400; turn++) {
      history.push({ role: 'user', content: `${turn} ${'h'.repeat(2000)}` });
      const list = cache.list(history.slice(0, 50));
      firstPiece ??= list.pieces[0];
      expect(list.pieces[0]).toBe(firstPiece);
      // Each turn also carries 20 000 characters nobody sends again.
      cache.list([{ role: 'user', content: `${turn} ${'n'.repeat(20_000)}` }]);
    }
    // 8 MB of one-off text went through; what is held is the live conversation and at most two generations.
    expect(cache.heldChars).toBeLessThan(2 * GENERATION_MIN_CHARS + 50 * 2010);
  });

  it('holds a bounded amount per session and releases idle sessions', () => {
    const caches = new SessionMessageCaches(undefined, { sessionChars: 10_000, idleMs: 1000 });
    const cache = caches.forSession('a');
    for (let i = 0; i < 100; i++) cache.list([{ role: 'user', content: `${i} ${'q'.repeat(1000)}` }]);
    expect(cache.heldChars).toBeLessThanOrEqual(10_000);
    caches.forSession('b');
    expect(caches.size).toBe(2);
    caches.sweep(Date.now() + 5000);
    // The idle one is released; the most recent one stays until the next sweep finds it idle.
    expect(caches.size).toBe(1);
  });

  it('asking for a session does not walk every session held (a gateway holds thousands)', () => {
    const caches = new SessionMessageCaches(undefined);
    for (let i = 0; i < 2000; i++) caches.forSession(`s${i}`).list([{ role: 'user', content: `hello ${i}` }]);
    const held = vi.spyOn(MessageCache.prototype, 'heldChars', 'get');
    try {
      caches.forSession('s7').list([{ role: 'user', content: 'again' }]);
      caches.forSession('new one');
      expect(held.mock.calls.length).toBeLessThanOrEqual(10);
    } finally {
      held.mockRestore();
    }
    expect(caches.size).toBe(2001);
  });

  it('keeps the total bound exact: what a session took in after it was asked for counts at the next ask', () => {
    const caches = new SessionMessageCaches(undefined, { sessionChars: 100_000, totalChars: 25_000 });
    const big = (tag: string) => [{ role: 'user', content: `${tag} ${'x'.repeat(10_000)}` }];
    caches.forSession('a').list(big('a'));
    caches.forSession('b').list(big('b'));
    expect(caches.size).toBe(2);
    // c brings the total to about 30 000 characters: the least recently used session (a) goes at the next ask.
    caches.forSession('c').list(big('c'));
    caches.forSession('c');
    expect(caches.size).toBe(2);
    const kept = caches.forSession('b');
    expect(kept.heldChars).toBeGreaterThan(10_000);
    // A full sweep counts every session afresh and agrees.
    caches.sweep();
    expect(caches.size).toBe(2);
  });

  it('counts what a session keeps beside its cache while another session is asked for (a turn asks once, then remembers texts call by call)', () => {
    const caches = new SessionMessageCaches(undefined, { sessionChars: 1_000_000, totalChars: 100_000 });
    const a = caches.forSession('a');
    caches.forSession('b');
    // As message-texts.ts does for a's later calls, with no new ask for a.
    a.textsChars = 300_000;
    caches.forSession('c');
    // a, the least recently used, is let go at once, not at the next idle sweep.
    expect(a.heldChars).toBe(0);
    expect(caches.size).toBe(2);
    // A cache let go counts no more, even if a turn still under way fills it.
    a.list([{ role: 'user', content: 'y'.repeat(200_000) }]);
    caches.forSession('d');
    expect(caches.size).toBe(3);
  });
});

describe('message cache: what it keeps alive', () => {
  it('does not keep the agent\'s per-turn copies of a history alive (they are looked up by identity, never owned)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const cache = new MessageCache(undefined);
    const history = Array.from({ length: 20 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `message ${i} `.repeat(100) }));
    cache.list(history);
    const copies: WeakRef<object>[] = [];
    // An agent that deep-copies its history for every call: equal content, new objects (and new strings) each time.
    // In a function of its own, so that no frame of the test still holds the last copy.
    const callWithACopy = () => {
      const copy = structuredClone(history);
      copies.push(new WeakRef(copy[0] as object));
      return cache.list(copy).pieces.length;
    };
    for (let turn = 0; turn < 5; turn++) expect(callWithACopy()).toBe(20);
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    gc();
    expect(copies.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
    // The copies were recognised as the history's messages: nothing new was serialized for them.
    expect(cache.heldChars).toBe(cache.list(history).pieces.reduce((sum, piece) => sum + piece.chars, 0));
  });
});
