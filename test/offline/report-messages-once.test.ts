/**
 * The report shows each input message in full once: a run of messages the
 * page already shows is one line linking to it. These tests read the page
 * back — every call's whole input list must be recoverable from it by
 * following the links — so nothing a user could need is lost.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { escapeHtml } from '../../src/offline/report/escape.js';
import { readsAsSnapshot as sameJson } from '../../src/content/json-snapshot.js';
import { InputLedger, type Run } from '../../src/offline/report/input-ledger.js';
import { captureIo, oursRecord } from './fixtures.js';

type Message = { role: string; content: unknown };

const SCRIPTS = ['the quick fox <b>&amp;</b> "quoted" ', '東京から大阪まで ', 'Погода меняется ', 'plan ✈️🌍 day 1 '];

function body(tag: string, chars: number): string {
  let out = `«${tag}» `;
  for (let i = 0; out.length < chars; i++) out += SCRIPTS[(tag.length + i) % SCRIPTS.length];
  return out;
}

/** One record: every reference gets its own system prompt then `history`; the aggregator its own, then `history`. */
function turnRecord(turn: number, history: readonly Message[], references = 3): Record<string, unknown> {
  const r = oursRecord({ ts: 1_764_000_000 + turn * 10, failSecond: false });
  const template = (r.references as Record<string, unknown>[])[0] as Record<string, unknown>;
  r.references = Array.from({ length: references }, (_, k) => ({
    ...template, label: `openai:m${k}`, output: `answer ${turn}.${k}`,
    input_messages: [{ role: 'system', content: `«sys-ref-${k}» You are advisor ${k}.` }, ...history],
  }));
  (r.aggregator as Record<string, unknown>).input_messages = [{ role: 'system', content: '«sys-agg» You decide.' }, ...history];
  (r.aggregator as Record<string, unknown>).output = `final ${turn}`;
  return r;
}

/** The agent's conversation grows by appending; each line repeats all of it (parsed apart: no shared objects). */
function growingSession(turns: number): { lines: string[]; distinct: string[] } {
  const history: Message[] = [];
  const lines: string[] = [];
  for (let t = 1; t <= turns; t++) {
    history.push({ role: 'user', content: body(`u-${t}`, 300) }, { role: 'assistant', content: body(`a-${t}`, 500) });
    // A message with content parts, as multimodal clients send them.
    if (t % 2 === 0) history.push({ role: 'user', content: [{ type: 'text', text: body(`p-${t}`, 120) }] });
    lines.push(JSON.stringify(turnRecord(t, history)));
  }
  const distinct = new Set<string>(['«sys-ref-0» You are advisor 0.', '«sys-ref-1» You are advisor 1.', '«sys-ref-2» You are advisor 2.', '«sys-agg» You decide.']);
  // Content parts are shown as JSON: their text as a JSON string.
  for (const m of history) distinct.add(typeof m.content === 'string' ? m.content : JSON.stringify((m.content as { text: string }[])[0]!.text).slice(1, -1));
  return { lines, distinct: [...distinct] };
}

const unescape = (s: string) => s.replace(/&lt;|&gt;|&quot;|&#39;|&amp;/g, (e) => ({ '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&amp;': '&' })[e] as string);

type Item =
  | { kind: 'msg'; role: string; pres: string[] }
  | { kind: 'same'; from: number; to: number; target: string; at: number };

interface PageLists {
  /** Element ids on the page. */
  ids: Set<string>;
  /** List id → 1-based position → what the page shows there (a run is stored at its first position). */
  lists: Map<string, Map<number, Item>>;
  links: string[];
}

function readPage(html: string): PageLists {
  const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1] as string));
  const links = [...html.matchAll(/href="#([^"]+)"/g)].map((m) => m[1] as string);
  const lists = new Map<string, Map<number, Item>>();
  for (const details of html.matchAll(/<details class="inputs" id="([^"]+)"><summary>[^<]*<\/summary>([\s\S]*?)<\/details>/g)) {
    const items = new Map<number, Item>();
    const item = /<div class="msg" id="[^"]+-m(\d+)"><div class="role">\d+ · ([^<]*)<\/div>((?:<pre>[\s\S]*?<\/pre>)*)<\/div>|<p class="same" id="[^"]+-m(\d+)">messages? \d+(?:–(\d+))? as in <a href="#([^"]+)-m\d+">turn \d+ · [^<,]*?(?:, messages? (\d+)(?:–\d+)?)?<\/a>(?: \(message \d+ first shown in <a href="#[^"]+">[^<]*<\/a>\))?<\/p>/g;
    for (const m of (details[2] as string).matchAll(item)) {
      if (m[1]) {
        items.set(Number(m[1]), { kind: 'msg', role: unescape(m[2] as string), pres: [...(m[3] as string).matchAll(/<pre>([\s\S]*?)<\/pre>/g)].map((p) => unescape(p[1] as string)) });
      } else {
        const from = Number(m[4]);
        items.set(from, { kind: 'same', from, to: m[5] ? Number(m[5]) : from, target: m[6] as string, at: m[7] ? Number(m[7]) : from });
      }
    }
    lists.set(details[1] as string, items);
  }
  return { ids, lists, links };
}

/** What the page says message `position` of list `id` is, following links; null when it cannot say. */
function messageAt(page: PageLists, id: string, position: number, depth = 0): Extract<Item, { kind: 'msg' }> | null {
  const items = page.lists.get(id);
  if (!items || depth > 1000) return null;
  const direct = items.get(position);
  if (direct?.kind === 'msg') return direct;
  for (const item of items.values()) {
    if (item.kind === 'same' && position >= item.from && position <= item.to) return messageAt(page, item.target, item.at + (position - item.from), depth + 1);
  }
  return null;
}

/** The message as the page shows it: its role and its text (string content) or the JSON of the rest. */
function shownAs(m: Message): { role: string; pres: string[] } {
  return typeof m.content === 'string'
    ? { role: m.role, pres: [m.content] }
    : { role: m.role, pres: [JSON.stringify({ content: m.content }, null, 2)] };
}

/** Every call of every record, rebuilt from the page, equals the record's input messages. */
function expectEveryListRecoverable(page: PageLists, records: Record<string, unknown>[]): void {
  records.forEach((record, t) => {
    const calls = [...(record.references as { input_messages: Message[] }[]).map((c, k) => [`t${t + 1}-ref${k}`, c] as const),
      [`t${t + 1}-agg`, record.aggregator as { input_messages: Message[] }] as const];
    for (const [id, call] of calls) {
      const rebuilt = call.input_messages.map((_, i) => {
        const shown = messageAt(page, id, i + 1);
        return shown && { role: shown.role, pres: shown.pres };
      });
      expect(rebuilt, id).toEqual(call.input_messages.map(shownAs));
    }
  });
}

describe('report: each input message shown once', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(path.join(tmpdir(), 'moa-report-once-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function report(name: string, lines: string[]): Promise<string> {
    const input = path.join(dir, `${name}.jsonl`);
    writeFileSync(input, `${lines.join('\n')}\n`);
    const out = path.join(dir, `${name}.html`);
    expect(await runCli(['report', input, '-o', out], captureIo().io)).toBe(0);
    return readFileSync(out, 'utf8');
  }

  it('a growing session shows each distinct message text exactly once, and every list can be read back from the page', async () => {
    const { lines, distinct } = growingSession(8);
    const html = await report('growing', lines);
    for (const text of distinct) expect(html.split(escapeHtml(text)).length - 1, text.slice(0, 20)).toBe(1);
    const page = readPage(html);
    expectEveryListRecoverable(page, lines.map((l) => JSON.parse(l) as Record<string, unknown>));
  });

  it('renders a message that differs from an earlier one in one character in full, even with the same role, length and ends', async () => {
    const a = body('a-1', 400);
    const middle = Math.floor(a.length / 2);
    const changed = `${a.slice(0, middle)}${a[middle] === 'X' ? 'Y' : 'X'}${a.slice(middle + 1)}`;
    const first = turnRecord(1, [{ role: 'user', content: a }, { role: 'assistant', content: body('b-1', 300) }], 1);
    const second = turnRecord(2, [{ role: 'user', content: changed }, { role: 'assistant', content: body('b-1', 300) }, { role: 'user', content: body('c-2', 200) }], 1);
    const lines = [JSON.stringify(first), JSON.stringify(second)];
    const html = await report('prefix-differs', lines);
    const page = readPage(html);
    // The changed message is on the page in full, in turn 2's own list, not behind a link.
    expect(page.lists.get('t2-ref0')?.get(2)).toEqual({ kind: 'msg', role: 'user', pres: [changed] });
    expect(page.lists.get('t2-agg')?.get(2)).toMatchObject({ kind: 'same', target: 't2-ref0', at: 2 });
    expect(html.split(escapeHtml(changed)).length - 1).toBe(1);
    expect(html.split(escapeHtml(a)).length - 1).toBe(1);
    expectEveryListRecoverable(page, lines.map((l) => JSON.parse(l) as Record<string, unknown>));
  });

  it('renders a list whose earlier messages all differ in full', async () => {
    const base = [{ role: 'user', content: body('x-1', 200) }, { role: 'assistant', content: body('y-1', 200) }];
    // Same roles and lengths, one character off in each: nothing may be linked.
    const off = base.map((m) => ({ ...m, content: `${m.content.slice(0, -1)}!` }));
    const lines = [JSON.stringify(turnRecord(1, base, 1)), JSON.stringify(turnRecord(2, off, 1))];
    const html = await report('all-differ', lines);
    const page = readPage(html);
    const turn2 = page.lists.get('t2-ref0') as Map<number, Item>;
    // The system prompt is the same and may be linked; both conversation messages are shown here.
    expect(turn2.get(2)).toEqual({ kind: 'msg', role: 'user', pres: [off[0]!.content] });
    expect(turn2.get(3)).toEqual({ kind: 'msg', role: 'assistant', pres: [off[1]!.content] });
    expectEveryListRecoverable(page, lines.map((l) => JSON.parse(l) as Record<string, unknown>));
  });

  it('every "as in turn K" link points at an anchor on the page, in turn K; "first shown" links land on the message itself', async () => {
    const { lines } = growingSession(6);
    const html = await report('links', lines);
    const page = readPage(html);
    const sameLinks = [...html.matchAll(/<p class="same"[^>]*>[^<]*<a href="#(t(\d+)-[^"]+)">turn (\d+) /g)];
    expect(sameLinks.length).toBeGreaterThan(10);
    for (const m of sameLinks) {
      expect(page.ids.has(m[1] as string), m[1]).toBe(true);
      expect(m[2]).toBe(m[3]);
    }
    for (const id of page.links) expect(page.ids.has(id), id).toBe(true);
    // Where the linked list links further back, the second link goes to the message shown in full.
    const messageIds = new Set([...html.matchAll(/<div class="msg" id="([^"]+)"/g)].map((m) => m[1]));
    const sameIds = new Set([...html.matchAll(/<p class="same" id="([^"]+)"/g)].map((m) => m[1]));
    const firstShown = [...html.matchAll(/first shown in <a href="#([^"]+)">/g)].map((m) => m[1]);
    expect(firstShown.length).toBeGreaterThan(0);
    for (const m of sameLinks) {
      const line = html.slice(m.index, html.indexOf('</p>', m.index));
      if (sameIds.has(m[1])) expect(line, 'a link landing on a link says where the message is').toContain('first shown in');
      else expect(messageIds.has(m[1])).toBe(true);
    }
    for (const id of firstShown) expect(messageIds.has(id), id).toBe(true);
  });
});

describe('InputLedger', () => {
  const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
  const fresh = (runs: readonly Run[]) => runs.reduce((n, r) => n + (r.kind === 'new' ? r.to - r.from : 0), 0);

  it('links a conversation whose oldest messages were dropped (a sliding context window) in one run', () => {
    const ledger = new InputLedger();
    const window = (t: number) => [{ role: 'system', content: 'sys' }, ...Array.from({ length: 30 }, (_, i) => ({ role: 'user', content: `m${t + i}` }))];
    ledger.place(1, 'ref0', 'reference 0', copy(window(1)));
    const shown = ledger.place(2, 'ref0', 'reference 0', copy(window(2)));
    // The system prompt, then messages 3–31 of turn 1 at 2–30 here, then the one new message.
    expect(shown.runs.map((r) => (r.kind === 'new' ? ['new', r.from, r.to] : ['seen', r.from, r.to, r.list.id, r.at]))).toEqual([
      ['seen', 0, 1, 't1-ref0', 0], ['seen', 1, 30, 't1-ref0', 2], ['new', 30, 31],
    ]);
  });

  it('keeps a run found through a list that links further back pointing where the messages are shown', () => {
    const ledger = new InputLedger();
    const sys = { role: 'system', content: 'You advise.' };
    ledger.place(1, 'ref0', 'reference 0', copy([sys, { role: 'user', content: 'a' }]));
    ledger.place(2, 'ref0', 'reference 0', copy([sys, { role: 'user', content: 'b' }]));
    const third = ledger.place(3, 'ref0', 'reference 0', copy([sys, { role: 'user', content: 'c' }]));
    // Turn 2 links its system prompt to turn 1; turn 3 goes to turn 1 directly, not through turn 2.
    expect(third.runs[0]).toMatchObject({ kind: 'seen', from: 0, to: 1, at: 0, list: { id: 't1-ref0' } });
    expect(fresh(third.runs)).toBe(1);
  });

  it('finds tool traffic (null content, told apart by ids) in a window that slid by many messages', () => {
    const ledger = new InputLedger();
    const tools = (from: number) => Array.from({ length: 40 }, (_, i) => (i % 2 === 0
      ? { role: 'assistant', content: null, tool_calls: [{ id: `call_${from + i}`, type: 'function', function: { name: 'f', arguments: '{}' } }] }
      : { role: 'tool', tool_call_id: `call_${from + i - 1}`, content: 'ok' }));
    ledger.place(1, 'ref0', 'reference 0', copy(tools(0)));
    // Twenty messages dropped from the front, twenty new at the end.
    const shown = ledger.place(2, 'ref0', 'reference 0', copy(tools(20)));
    expect(shown.runs[0]).toMatchObject({ kind: 'seen', from: 0, to: 20, at: 20 });
    expect(fresh(shown.runs)).toBe(20);
  });

  it('never links messages that differ only in key order or in a nested value', () => {
    const ledger = new InputLedger();
    ledger.place(1, 'ref0', 'reference 0', [{ role: 'user', content: [{ type: 'text', text: 'hi' }], name: 'a' }]);
    const reordered = ledger.place(1, 'ref1', 'reference 1', [{ content: [{ type: 'text', text: 'hi' }], role: 'user', name: 'a' }]);
    const nested = ledger.place(1, 'ref2', 'reference 2', [{ role: 'user', content: [{ type: 'text', text: 'hi', extra: 1 }], name: 'a' }]);
    const same = ledger.place(1, 'agg', 'aggregator', [{ role: 'user', content: [{ type: 'text', text: 'hi' }], name: 'a' }]);
    expect(fresh(reordered.runs)).toBe(1);
    expect(fresh(nested.runs)).toBe(1);
    expect(same.runs).toMatchObject([{ kind: 'seen', list: { id: 't1-ref0' } }]);
  });
});

// The ledger's message equality (the content layer's snapshot comparison), on parsed JSON.
describe('sameJson', () => {
  const json = fc.letrec((tie) => ({
    value: fc.oneof({ maxDepth: 3 }, fc.constantFrom(null, true, false, 0, -0, 1, 1.5, '', 'a', 'b', '日', '\u2028'), tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 3 }),
    object: fc.dictionary(fc.constantFrom('role', 'content', 'a', 'b'), tie('value'), { maxKeys: 3 }),
  })).value;

  it('is true exactly when the JSON texts are equal (key order included)', () => {
    fc.assert(fc.property(json, json, (a, b) => {
      expect(sameJson(a, b)).toBe(JSON.stringify(a) === JSON.stringify(b));
      // Parsed copies: equal objects that are not the same objects.
      const copy = JSON.parse(JSON.stringify(a)) as unknown;
      expect(sameJson(a, copy)).toBe(true);
    }), { numRuns: 2000 });
    expect(sameJson({ role: 'user', content: 'x' }, { content: 'x', role: 'user' })).toBe(false);
    expect(sameJson([1, [2]], [1, [2]])).toBe(true);
    expect(sameJson({ a: [] }, { a: {} })).toBe(false);
  });
});
