/**
 * A turn's short conversations, each run of messages serialized once: every
 * call's array still reads exactly as `JSON.stringify` gave it when that
 * call started — on adversarial content, with messages mutated, replaced or
 * moved between calls — and what the calls share is serialized once.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { MessageCache } from '../../src/content/message-cache.js';
import { MessageTexts, REMEMBERED_CHARS } from '../../src/content/message-texts.js';
import { Redactor } from '../../src/content/redact.js';
import { encodeLine, RawSlots } from '../../src/export/json-line.js';

const nasty = fc.string({ unit: fc.constantFrom('a', 'é', '東', '🧭', '\u2028', '\u2029', '\u0000', '\u001f', '"', '\\', '\ud800', '\udfff', ' '), maxLength: 60 });
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
/** The state behind each getter message (the test changes it between calls). */
const boxes = new WeakMap<object, { text: string }>();

/** Chat messages, plain or nested, now and then one whose content is a getter, or one only the careful ways take. */
const message = fc.tuple(jsonish, fc.nat(7), nasty).map(([extra, kind, text]): unknown => {
  switch (kind) {
    case 6: {
      const box = { text };
      const m = Object.defineProperty({ role: 'assistant' }, 'content', { enumerable: true, get: () => box.text });
      boxes.set(m, box);
      return m;
    }
    case 0: return { role: 'user', content: text };
    case 1: return { role: 'assistant', content: text, extra };
    case 2: return { role: 'tool', content: [{ type: 'text', text }], parts: extra };
    case 3: return Object.create(null, { role: { value: 'user', enumerable: true }, content: { value: text, enumerable: true, writable: true } });
    case 4: return { role: 'user', content: text, toJSON: () => ({ role: 'user', content: `${text}!` }) };
    case 5: return { role: 'user', when: new Date(0), content: text };
    default: return extra;
  }
});

/** The array as the line's encoder writes it. */
function written(list: ReturnType<MessageTexts['list']>): string | undefined {
  if (list === undefined) return undefined;
  const slots = new RawSlots();
  const record = { input_messages: slots.holdMessages(list) };
  const line = Buffer.concat(encodeLine(record, slots).chunks).toString('utf8');
  return line.slice('{"input_messages":'.length, -1);
}

/** How each call of a turn may change the conversation before it starts. */
const change = fc.tuple(fc.nat(5), fc.nat(), message);

function changed(messages: unknown[], [kind, at, replacement]: [number, number, unknown]): unknown[] {
  const next = messages.map((m) => (m !== null && typeof m === 'object' && !Array.isArray(m) && Object.getPrototypeOf(m) === Object.prototype ? { ...m } : m));
  const i = next.length === 0 ? 0 : at % next.length;
  switch (kind) {
    case 0: return next; // equal copies, as an agent makes per reference
    case 1: return [replacement, ...next.slice(1)]; // another system prompt
    case 2: return [...next, replacement]; // the aggregator's guidance after the conversation
    case 3: return next.slice(1); // no system prompt: the conversation one place earlier
    case 4: {
      // The same objects, one of them changed in place after an earlier call serialized it.
      const target = messages[i];
      const box = target !== null && typeof target === 'object' ? boxes.get(target) : undefined;
      if (box) {
        // What its getter reads changed.
        box.text = typeof replacement === 'string' ? replacement : `${box.text}+`;
      } else if (target !== null && typeof target === 'object' && !Array.isArray(target) && Object.isExtensible(target)) {
        try {
          (target as Record<string, unknown>).content = replacement;
        } catch {
          // a frozen or odd object: left as it is
        }
      }
      return messages;
    }
    default: return [replacement, ...messages.slice(0, i), ...messages.slice(i + 1)];
  }
}

describe('MessageTexts', () => {
  it('gives every call what JSON.stringify gives when it starts, whatever changed between calls', () => {
    fc.assert(fc.property(fc.array(message, { maxLength: 6 }), fc.array(change, { maxLength: 5 }), (first, changes) => {
      const texts = new MessageTexts(new MessageCache(undefined));
      let messages = first;
      const check = () => {
        const expected = JSON.stringify(messages);
        const list = texts.list(messages, 4096);
        // Undefined: left to the caller's own way (not plain data, too large); never a different text.
        if (list === undefined) return;
        // As bytes (the line), then as text (the ways that need text: a payload for another copy, a line cut to fit).
        expect(written(list)).toBe(expected);
        expect(list.cache.arrayJson(list)).toBe(expected);
      };
      check();
      for (const next of changes) {
        messages = changed(messages, next);
        check();
      }
    }), { numRuns: 400 });
  });

  it('with redaction, equals JSON.stringify with the same replacer and leaves no secret', () => {
    const replacer = Redactor.from(true).replacer as (k: string, v: unknown) => unknown;
    fc.assert(fc.property(fc.array(message, { minLength: 1, maxLength: 5 }), fc.constantFrom('sk-proj-abcdefghijklmnopqrstuvwxyz0123456789', 'me@example.com'), (history, secret) => {
      const texts = new MessageTexts(new MessageCache(replacer));
      const withSecret = [...history, { role: 'user', content: `token ${secret} here`, [secret]: 1 }];
      for (const messages of [withSecret, [{ role: 'system', content: 'other' }, ...withSecret.slice(1)]]) {
        const list = texts.list(messages, 4096);
        if (list === undefined) continue;
        // As text first, then as bytes.
        expect(list.cache.arrayJson(list)).toBe(JSON.stringify(messages, replacer));
        const got = written(list);
        expect(got).toBe(JSON.stringify(messages, replacer));
        expect(got).not.toContain(secret);
      }
    }), { numRuns: 100 });
  });

  it('serializes a conversation the calls share once: each call serializes only its own system prompt', () => {
    const history = Array.from({ length: 6 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `message ${i} 東京 🧭 ${'x'.repeat(100)}` }));
    const calls = [
      ...[0, 1, 2].map((r) => [{ role: 'system', content: `advisor ${r}` }, ...history.map((m) => ({ ...m }))]),
      [{ role: 'system', content: 'acting model' }, ...history, { role: 'user', content: 'guidance' }],
    ];
    const texts = new MessageTexts(new MessageCache(undefined));
    const stringify = vi.spyOn(JSON, 'stringify');
    const lists = calls.map((messages) => texts.list(messages, 4096));
    const serialized = stringify.mock.results.reduce((sum, r) => sum + String(r.value).length, 0);
    stringify.mockRestore();
    lists.forEach((list, i) => expect(written(list)).toBe(JSON.stringify(calls[i])));
    // The six shared messages: one piece, in every list.
    const shared = lists[0]?.pieces[1];
    for (const list of lists) expect(list?.pieces[1]).toBe(shared);
    // Each call's array whole would be four times the conversation; shared, it is once plus the prompts.
    const once = JSON.stringify(history).length;
    expect(serialized).toBeLessThan(once + 200);
  });

  it('serializes each call\'s own first message once across turns: a later turn serializes only its new conversation', () => {
    const texts = new MessageTexts(new MessageCache(undefined));
    const prompts = ['advisor 0 ✈️', 'advisor 1', 'advisor 2', 'acting model 東京'];
    const turn = (seed: number) => {
      const history = Array.from({ length: 4 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${seed} message ${i} 🧭 ${'v'.repeat(80)}` }));
      // Equal prompts, new objects and new strings every turn, as an agent builds them.
      const calls = prompts.map((prompt) => [{ role: 'system', content: `${prompt}` }, ...history.map((m) => ({ ...m }))]);
      const stringify = vi.spyOn(JSON, 'stringify');
      const lists = calls.map((messages) => texts.list(messages, 4096));
      const serialized = stringify.mock.results.reduce((sum, r) => sum + String(r.value).length, 0);
      stringify.mockRestore();
      lists.forEach((list, i) => expect(written(list)).toBe(JSON.stringify(calls[i])));
      return { lists, serialized, history };
    };
    const first = turn(1);
    const second = turn(2);
    // The prompts come from the first turn's pieces; only the new conversation is serialized.
    second.lists.forEach((list, i) => expect(list?.pieces[0]).toBe(first.lists[i]?.pieces[0]));
    expect(second.serialized).toBeLessThanOrEqual(JSON.stringify(second.history).length);
    // A prompt that changed is serialized anew (`turn` checks every list against JSON.stringify).
    prompts[0] = 'advisor 0 ✈️, now stricter';
    const third = turn(3);
    expect(third.lists[0]?.pieces[0]).not.toBe(first.lists[0]?.pieces[0]);
    expect(third.lists[1]?.pieces[0]).toBe(first.lists[1]?.pieces[0]);
  });

  it('shares the conversation whether a call adds its own message before it, after it, or both', () => {
    const history = Array.from({ length: 4 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i} ${'y'.repeat(200)}` }));
    const calls = [0, 1, 2].map((r) => [{ role: 'system', content: `advisor ${r}` }, ...history.map((m) => ({ ...m })), { role: 'user', content: `answer as advisor ${r}` }]);
    calls.push([...history, { role: 'user', content: 'guidance' }]);
    const texts = new MessageTexts(new MessageCache(undefined));
    const stringify = vi.spyOn(JSON, 'stringify');
    const lists = calls.map((messages) => texts.list(messages, 4096));
    const serialized = stringify.mock.results.reduce((sum, r) => sum + String(r.value).length, 0);
    stringify.mockRestore();
    lists.forEach((list, i) => expect(written(list)).toBe(JSON.stringify(calls[i])));
    expect(serialized).toBeLessThan(JSON.stringify(history).length + 400);
  });

  it('takes nothing stale: a shared message changed in place before a later call is serialized anew', () => {
    const meta = { n: 1 };
    const history = [{ role: 'user', content: 'question' }, { role: 'assistant', content: 'answer', meta }];
    const texts = new MessageTexts(new MessageCache(undefined));
    const first = [{ role: 'system', content: 'a' }, ...history];
    expect(written(texts.list(first, 4096))).toBe(JSON.stringify(first));
    meta.n = 2;
    const second = [{ role: 'system', content: 'b' }, ...history];
    expect(written(texts.list(second, 4096))).toBe(JSON.stringify(second));
    expect(written(texts.list(second, 4096))).toContain('"n":2');
  });

  it('a getter that captures other messages while a list is being taken: both lists still read as JSON.stringify gave them', () => {
    const texts = new MessageTexts(new MessageCache(undefined));
    const other = [{ role: 'system', content: 'inner' }, { role: 'user', content: 'x'.repeat(300) }, { role: 'user', content: 'z' }];
    let inner: ReturnType<MessageTexts['list']> | 'not read' = 'not read';
    const sneaky = Object.defineProperty({ role: 'user' }, 'content', {
      enumerable: true,
      get: () => {
        if (inner === 'not read') inner = texts.list(other, 4096) ?? undefined;
        return 'outer';
      },
    });
    const outer = [{ role: 'system', content: 'outer' }, sneaky, { role: 'user', content: 'y'.repeat(300) }];
    expect(written(texts.list(outer, 4096))).toBe(JSON.stringify(outer));
    // The inner one was left to the caller's own way (undefined), or read right.
    if (inner !== undefined && inner !== 'not read') expect(written(inner)).toBe(JSON.stringify(other));
    // And later lists are not thrown off by what happened inside.
    expect(written(texts.list(other, 4096))).toBe(JSON.stringify(other));
    expect(written(texts.list(outer, 4096))).toBe(JSON.stringify(outer));
  });

  it('remembers a bounded amount, whatever comes (a session keeps its texts for its whole life)', () => {
    const texts = new MessageTexts(new MessageCache(undefined));
    for (let i = 0; i < 200; i++) {
      const messages = Array.from({ length: 1 + (i % 7) }, (_, k) => ({ role: 'user', content: `${i}:${k} ${'w'.repeat(400)}` }));
      expect(written(texts.list(messages, 4096))).toBe(JSON.stringify(messages));
    }
    const known = (texts as unknown as { known: Array<{ piece: { chars: number } } | undefined> }).known;
    const held = known.reduce((sum, run) => sum + (run?.piece.chars ?? 0), 0);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(REMEMBERED_CHARS);
  });

  it('counts what it keeps against its message cache, and lets it go when the cache is let go (an idle session)', () => {
    const cache = new MessageCache(undefined);
    const texts = new MessageTexts(cache);
    const history = [{ role: 'user', content: 'q'.repeat(500) }, { role: 'assistant', content: 'a'.repeat(500) }];
    texts.list([{ role: 'system', content: 'one' }, ...history], 4096);
    expect(cache.heldChars).toBeGreaterThan(1000);
    const stringify = vi.spyOn(JSON, 'stringify');
    texts.list([{ role: 'system', content: 'two' }, ...history], 4096);
    const shared = stringify.mock.results.reduce((sum, r) => sum + String(r.value).length, 0);
    cache.clear();
    expect(cache.heldChars).toBe(0);
    stringify.mockClear();
    const messages = [{ role: 'system', content: 'three' }, ...history];
    expect(written(texts.list(messages, 4096))).toBe(JSON.stringify(messages));
    const afterClear = stringify.mock.results.slice(0, -1).reduce((sum, r) => sum + String(r.value).length, 0);
    stringify.mockRestore();
    // Shared before the cache was let go (only the prompt serialized), serialized anew after it.
    expect(shared).toBeLessThan(100);
    expect(afterClear).toBeGreaterThan(1000);
  });

  it('leaves what is not short plain data to the caller, and never throws', () => {
    const texts = new MessageTexts(new MessageCache(undefined));
    const cycle: Record<string, unknown> = { role: 'user' };
    cycle.self = cycle;
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const throwing = Object.defineProperty({}, 'content', { enumerable: true, get: () => { throw new Error('no'); } });
    for (const messages of [[], [cycle], [proxy], [throwing], ['text'], [[1]], [{ n: 1n }], [{ content: 'x'.repeat(5000) }], [new (class Message { role = 'user'; })()]]) {
      expect(texts.list(messages, 4096)).toBeUndefined();
    }
  });
});
