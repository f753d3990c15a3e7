import { constants } from 'node:buffer';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { truncationMarker as contentMarker } from '../../src/content/truncation.js';
import { AppendWriter } from '../../src/export/append-writer.js';
import { MessageCache, MessagePiece } from '../../src/content/message-cache.js';
import { MessageTexts } from '../../src/content/message-texts.js';
import { DEFAULT_MAX_LINE_BYTES, encodeLine, LineScratch, RawSlots, type EncodedLine } from '../../src/export/json-line.js';
import { parseRecordLine } from '../../src/offline/reader.js';
import { oursRecord } from '../offline/fixtures.js';

type Call = { input_messages: Array<{ role: string; content: string }>; output: string | null };

/**
 * A record as the exporter builds it: each call's messages as pre-serialized
 * JSON text in a slot; `plain` is the same record with the messages in place.
 */
function recordWithMessages(contents: string[], output = 'Four, obviously.') {
  const slots = new RawSlots();
  const messages = [
    [{ role: 'system', content: 'You advise.' }, { role: 'user', content: contents[0] }],
    [{ role: 'user', content: contents[1] }],
    [{ role: 'user', content: contents[2] }],
  ];
  const build = (inputMessages: (i: number) => unknown) => {
    const record = oursRecord();
    const references = record.references as Array<Record<string, unknown>>;
    references[0] = { ...references[0], input_messages: inputMessages(0), output };
    references[1] = { ...references[1], input_messages: inputMessages(1) };
    record.aggregator = { ...(record.aggregator as object), input_messages: inputMessages(2) };
    return record;
  };
  return { record: build((i) => slots.hold(JSON.stringify(messages[i]))), slots, plain: build((i) => messages[i]) };
}

function text(line: EncodedLine): string {
  return Buffer.concat(line.chunks).toString('utf8');
}

function cutCounts(json: string): number[] {
  return [...json.matchAll(/…\[moa-otel: truncated (\d+) chars\]/g)].map((m) => Number(m[1]));
}

describe('encodeLine: a record too big for one line is cut, never dropped', () => {
  it('writes a record that fits whole, byte for byte what JSON.stringify gives for it with its messages in place', () => {
    for (const size of [1000, 2_000_000]) { // joined at once, and encoded piece by piece
      const { record, slots, plain } = recordWithMessages(['a'.repeat(size), 'b'.repeat(size), 'c'.repeat(size)]);
      const line = encodeLine(record, slots, { maxLineBytes: 100_000_000 });
      expect(line.truncatedChars).toBe(0);
      expect(text(line)).toBe(JSON.stringify(plain));
      expect(line.byteLength).toBe(Buffer.byteLength(text(line)));
    }
  });

  it('cuts the longest contents first, with the OTLP guard\'s marker, and keeps the record schema-valid', () => {
    const { record, slots } = recordWithMessages(['a'.repeat(400_000), 'b'.repeat(300_000), 'short, kept whole'.repeat(10)]);
    const line = encodeLine(record, slots, { maxLineBytes: 250_000 });
    expect(line.byteLength).toBeLessThanOrEqual(250_000);
    expect(line.byteLength).toBeGreaterThan(240_000); // cut to fit, not to nothing
    const json = text(line);
    const parsed = parseRecordLine(json);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const [first, second] = parsed.record.references as unknown as Call[];
    const aggregator = parsed.record.aggregator as unknown as Call;
    // Roles, short strings and small messages are structure: untouched.
    expect(first?.input_messages[0]).toEqual({ role: 'system', content: 'You advise.' });
    expect(aggregator.input_messages[0]?.content).toBe('short, kept whole'.repeat(10));
    expect(first?.output).toBe('Four, obviously.');
    // Both long strings were cut to one common length: the longer lost more.
    const a = first?.input_messages[1]?.content ?? '';
    const b = second?.input_messages[0]?.content ?? '';
    expect(a.indexOf('…')).toBe(b.indexOf('…'));
    const cuts = cutCounts(json);
    expect(cuts).toHaveLength(2);
    expect(cuts[0]! - cuts[1]!).toBe(100_000);
    expect(line.truncatedChars).toBe(cuts[0]! + cuts[1]!);
    expect(a.endsWith(contentMarker(cuts[0]!))).toBe(true);
  });

  it('cuts a record whose own strings (not messages) are too long: an output', () => {
    const { record, slots } = recordWithMessages(['q', 'q', 'q'], 'y'.repeat(300_000));
    const line = encodeLine(record, slots, { maxLineBytes: 100_000 });
    expect(line.byteLength).toBeLessThanOrEqual(100_000);
    const parsed = parseRecordLine(text(line));
    expect(parsed.ok && parsed.record.references[0]?.output?.endsWith(' chars]')).toBe(true);
  });

  it('stays within the budget in bytes with escapes and multi-byte text, never splitting a surrogate pair', () => {
    const hostile = '"\\\n\u0001😀日本'.repeat(40_000);
    const { record, slots } = recordWithMessages([hostile, hostile, 'x']);
    const line = encodeLine(record, slots, { maxLineBytes: 150_000 });
    expect(line.byteLength).toBeLessThanOrEqual(150_000);
    const json = text(line);
    expect(json).not.toMatch(/\\ud83d(?!\\ude00)/i);
    expect(Buffer.from(json, 'utf8').toString('utf8')).toBe(json);
    expect(parseRecordLine(json).ok).toBe(true);
  });

  it('when even cutting every string is not enough (a hundred thousand messages), each message list becomes one marker', () => {
    const slots = new RawSlots();
    const record = oursRecord();
    const many = JSON.stringify(Array.from({ length: 100_000 }, (_, i) => ({ role: 'user', content: `m${i}` })));
    (record.references as Array<Record<string, unknown>>)[0]!.input_messages = slots.hold(many);
    const line = encodeLine(record, slots, { maxLineBytes: 50_000 });
    expect(line.byteLength).toBeLessThanOrEqual(50_000);
    const parsed = parseRecordLine(text(line));
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.record.references[0]?.input_messages).toEqual([`[moa-otel: ${many.length} characters of JSON omitted: too large for one trace line]`]);
    expect(line.truncatedChars).toBe(many.length);
  });

  it('the writer writes an encoded line (many chunks) in one go and counts a cut record', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'moa-line-'));
    try {
      const file = path.join(dir, 's.jsonl');
      const writer = new AppendWriter({ log: () => {} });
      const { record, slots } = recordWithMessages(['a'.repeat(400_000), 'b', 'c']);
      expect(writer.appendLine(file, encodeLine(record, slots, { maxLineBytes: 100_000 }))).toBe(true);
      // More pieces than one writev takes: they are joined, never split over two writes.
      const pieces = Array.from({ length: 3000 }, (_, i) => Buffer.from(i === 0 ? '["' : i === 2999 ? '"]' : 'x'));
      expect(writer.appendLine(file, { chunks: pieces, byteLength: 3000, truncatedChars: 0 })).toBe(true);
      const lines = readFileSync(file, 'utf8').split('\n');
      expect(lines).toHaveLength(3);
      expect(parseRecordLine(lines[0]!).ok).toBe(true);
      expect(JSON.parse(lines[1]!)).toEqual(['x'.repeat(2998)]);
      expect(writer.stats).toMatchObject({ linesWritten: 2, linesTruncated: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The bound above is injected to keep this tier fast; the real one (a record of
  // over half a gigabyte through the whole pipeline) is in test/e2e/huge-record.e2e.test.ts.
  it('by default a line is bounded by the longest string this runtime holds, so any Node reader can read it back', () => {
    expect(DEFAULT_MAX_LINE_BYTES).toBe(constants.MAX_STRING_LENGTH);
    expect(() => 'x'.repeat(constants.MAX_STRING_LENGTH + 1)).toThrow(/Invalid string length/);
  });
});

describe('encodeLine into a reused scratch buffer', () => {
  it('gives the same bytes as fresh buffers, line after line, with message pieces and cut records too', () => {
    const scratch = new LineScratch();
    const cache = new MessageCache(undefined);
    const NASTY = 'mixed ✈️ 東京 Москва 🧭 [\u2028] [\u0000] [\ud800] " \\ ';
    // Long, short, long again: a shorter line must not keep bytes of the longer one before it.
    for (const size of [5000, 3, 20_000, 1, 70_000, 0]) {
      const slots = new RawSlots();
      const pieces = cache.list([{ role: 'user', content: NASTY.repeat(size % 7) }, { role: 'assistant', content: `${size}` }]);
      const record = { ts: size, text: NASTY.repeat(size / 30), messages: slots.holdMessages(pieces), raw: slots.hold('[1,2]'), empty: slots.holdMessages(cache.list([])) };
      const fresh = text(encodeLine(record, slots));
      const reused = encodeLine(record, slots, { scratch });
      expect(text(reused)).toBe(fresh);
      expect(reused.byteLength).toBe(Buffer.byteLength(fresh));
      // Cut to fit: the scratch way gives way to the general one, with the same result.
      const limit = Math.floor(Buffer.byteLength(fresh) / 2) + 200;
      expect(text(encodeLine(record, slots, { scratch, maxLineBytes: limit }))).toBe(text(encodeLine(record, slots, { maxLineBytes: limit })));
    }
  });
});

describe('a small line goes to writev as one buffer', () => {
  it('copies the messages of a small line next to its text, and leaves a long conversation\'s bytes where they are', () => {
    const scratch = new LineScratch();
    const cache = new MessageCache(undefined);
    const short = [{ role: 'system', content: 'Advise ✈️ [\u2028]' }, { role: 'user', content: '東京 🧭 "quoted" \\ '.repeat(20) }];
    const long = [{ role: 'user', content: 'Москва '.repeat(5000) }];
    for (const [messages, copied] of [[short, true], [long, false]] as const) {
      const slots = new RawSlots();
      const list = cache.list(messages);
      const record = { ts: 1.5, a: slots.holdMessages(list), b: slots.holdMessages(list), out: 'done ✓' };
      const line = encodeLine(record, slots, { scratch });
      expect(text(line)).toBe(JSON.stringify({ ts: 1.5, a: messages, b: messages, out: 'done ✓' }));
      expect(line.byteLength).toBe(Buffer.byteLength(text(line)));
      const pieceMemory = list.pieces[0]!.bytes(undefined).buffer;
      if (copied) expect(line.chunks).toHaveLength(1);
      else expect(line.chunks.some((chunk) => chunk.buffer === pieceMemory)).toBe(true);
      // The newline follows the text in the same memory: the writer sends both as one buffer.
      const last = line.chunks.at(-1)!;
      expect(line.newlineAfter).toBe(true);
      expect(Buffer.from(last.buffer, last.byteOffset + last.length, 1)[0]).toBe(0x0a);
      const dir = mkdtempSync(path.join(tmpdir(), 'moa-newline-'));
      try {
        const writer = new AppendWriter();
        const file = path.join(dir, 's.jsonl');
        expect(writer.appendLine(file, line)).toBe(true);
        writer.close();
        expect(readFileSync(file, 'utf8')).toBe(`${text(line)}\n`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});

describe('a small line takes the message runs it meets first from their text', () => {
  const nasty = fc.string({ unit: fc.constantFrom('a', 'é', '東', '🧭', '\u2028', '\u0000', '"', '\\', '\ud800', '\udfff', ' '), maxLength: 40 });
  const message = fc.tuple(fc.constantFrom('user', 'assistant', 'tool'), nasty, fc.option(fc.double(), { nil: undefined }))
    .map(([role, content, score]) => (score === undefined ? { role, content } : { role, content, score }));

  /** A turn's four arrays as MessageTexts lists them: each call's own first message, then equal copies of the conversation. */
  function turnLists(texts: MessageTexts, history: object[], prompts: string[]) {
    const arrays = prompts.map((prompt) => [{ role: 'system', content: prompt }, ...history.map((m) => ({ ...m }))]);
    return { arrays, lists: arrays.map((messages) => texts.list(messages, 4096)) };
  }

  it('writes lines equal to JSON.stringify, line after line, whether a run is met first, again in the line, or in a later line', () => {
    fc.assert(fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), fc.array(nasty, { minLength: 1, maxLength: 4 }), nasty, (history, prompts, output) => {
      const scratch = new LineScratch();
      const texts = new MessageTexts(new MessageCache(undefined));
      // The same conversation in two turns, the second one grown: its runs are met again in a later line.
      for (const grown of [history, [...history, { role: 'user', content: output }]]) {
        const { arrays, lists } = turnLists(texts, grown, prompts);
        if (lists.some((list) => list === undefined)) return;
        const slots = new RawSlots();
        const record = { ts: 1.25, calls: lists.map((list) => ({ input_messages: slots.holdMessages(list!), output })), raw: slots.hold('[0.1]') };
        const plain = { ts: 1.25, calls: arrays.map((messages) => ({ input_messages: messages, output })), raw: [0.1] };
        const line = encodeLine(record, slots, { scratch });
        expect(text(line)).toBe(JSON.stringify(plain));
        expect(line.byteLength).toBe(Buffer.byteLength(text(line)));
        expect(line.chunks).toHaveLength(1);
      }
    }), { numRuns: 300 });
  });

  it('writes a run of several messages first in its list, a run twice in one list, and pieces with bytes kept, as JSON.stringify does', () => {
    const cache = new MessageCache(undefined);
    const elements = [{ role: 'user', content: 'Москва 🧭 "q" \\ \u2028' }, { role: 'assistant', content: '\ud800 東京' }];
    const run = () => MessagePiece.ofElements(JSON.stringify(elements), 40);
    const one = () => new MessagePiece(undefined, 10, JSON.stringify({ role: 'system', content: 'é' }));
    const kept = one();
    kept.bytes(undefined);
    const shared = run();
    const lists = [[run(), one()], [one(), shared, shared, kept], [shared], [kept, run()]];
    const slots = new RawSlots();
    const record = { lists: lists.map((pieces) => slots.holdMessages({ pieces, cache })) };
    const expected = JSON.stringify({
      lists: [[...elements, { role: 'system', content: 'é' }], [{ role: 'system', content: 'é' }, ...elements, ...elements, { role: 'system', content: 'é' }], elements, [{ role: 'system', content: 'é' }, ...elements]],
    });
    expect(text(encodeLine(record, slots, { scratch: new LineScratch() }))).toBe(expected);
    // Met again in a later line: from kept bytes now, the same line.
    expect(text(encodeLine(record, slots, { scratch: new LineScratch() }))).toBe(expected);
  });

  it('still copies a run whose worst case is over the copy budget but whose bytes are not (one buffer for writev)', () => {
    const cache = new MessageCache(undefined);
    // 7,000 ASCII characters: at most 21,001 bytes from text, over the 16 KiB copied per line; 7,001 in fact.
    const elements = [{ role: 'user', content: 'a'.repeat(7000) }, { role: 'assistant', content: 'ok' }];
    const slots = new RawSlots();
    const record = { m: slots.holdMessages({ pieces: [MessagePiece.ofElements(JSON.stringify(elements), 7010)], cache }) };
    const line = encodeLine(record, slots, { scratch: new LineScratch() });
    expect(text(line)).toBe(JSON.stringify({ m: elements }));
    expect(line.chunks).toHaveLength(1);
  });

  it('keeps no bytes of a run met in one line only, and keeps them once a second line needs it', () => {
    const scratch = new LineScratch();
    const texts = new MessageTexts(new MessageCache(undefined));
    const history = [{ role: 'user', content: 'Trip plan ✈️ 東京' }, { role: 'assistant', content: 'Day 1: museums 🏛️' }, { role: 'user', content: 'And day 2?' }];
    const line = () => {
      const { lists } = turnLists(texts, history, ['Advise.', 'Check.', 'Answer.']);
      const slots = new RawSlots();
      encodeLine({ calls: lists.map((list) => slots.holdMessages(list!)) }, slots, { scratch });
      return lists.map((list) => list!.pieces);
    };
    const first = line();
    // The conversation run is shared by the three calls: the line has it from its text, once.
    const shared = first[0]![1]!;
    expect(first[1]![1]).toBe(shared);
    expect(shared.serialized).toBe(false);
    const second = line();
    expect(second[0]![1]).toBe(shared);
    expect(shared.serialized).toBe(true);
  });
});

describe('placeholders are found only where a slot stands', () => {
  // Text that looks like a placeholder to a careless search: NUL, quotes and
  // backslashes around `moa-raw:`, another process's nonce, slot numbers.
  const lookalike = fc.constantFrom('\u0000', '"', '\\', 'moa-raw:', '\u0000moa-raw:', '"\u0000moa-raw:0"', `\u0000moa-raw:${'0'.repeat(32)}:1`, ':', '0', '1"', '✈️', '東京');
  const nasty = fc.array(fc.oneof(lookalike, fc.string({ maxLength: 6 })), { maxLength: 8 }).map((parts) => parts.join(''));
  const slotValue = fc.oneof(nasty, fc.array(nasty, { maxLength: 3 }), fc.constant(0.30000000000000004));

  it('gives JSON.stringify of the record with each slot\'s value in place, for any strings around and inside the slots', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(nasty, fc.oneof(nasty, slotValue.map((value) => ({ slot: value }))), fc.boolean()), { maxLength: 8 }),
      (entries) => {
        const slots = new RawSlots();
        const record: Record<string, unknown> = {};
        const plain: Record<string, unknown> = {};
        entries.forEach(([text, value, dropped], i) => {
          record[`k${i}`] = text;
          plain[`k${i}`] = text;
          if (typeof value === 'string') {
            record[`v${i}`] = value;
            plain[`v${i}`] = value;
            return;
          }
          const placeholder = slots.hold(JSON.stringify(value.slot));
          // A placeholder dropped from the record (its key deleted) leaves nothing behind.
          if (dropped) return;
          record[`v${i}`] = placeholder;
          plain[`v${i}`] = value.slot;
        });
        const expected = JSON.stringify(plain);
        expect(text(encodeLine(record, slots))).toBe(expected);
        expect(text(encodeLine(record, slots, { scratch: new LineScratch() }))).toBe(expected);
      },
    ), { numRuns: 400 });
  });
});

