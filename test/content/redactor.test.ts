/**
 * The `Redactor`: one immutable policy per instrumentation, built from the
 * `redact` setting. Masks texts, JSON values and keys, and session ids;
 * never throws; two instances never affect each other.
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { sanitizeSessionId } from '../../src/config/paths.js';
import { REDACTED, Redactor } from '../../src/content/redact.js';

const KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123';
const MB = 1 << 20;

describe('Redactor', () => {
  it('off (false or unset) masks nothing and offers no replacer', () => {
    for (const off of [Redactor.from(false), Redactor.from(undefined), Redactor.OFF]) {
      expect(off.active).toBe(false);
      expect(off.replacer).toBeUndefined();
      expect(off.text(`key ${KEY}`)).toBe(`key ${KEY}`);
      expect(off.sessionId('ann@example.com')).toBe('ann@example.com');
    }
  });

  it('masks e-mail addresses by default with redact: true, not with { emails: false }', () => {
    const text = `mail ann@example.com the key ${KEY}`;
    expect(Redactor.from(true).text(text)).toBe('mail [REDACTED] the key [REDACTED]');
    expect(Redactor.from({ emails: false }).text(text)).toBe('mail ann@example.com the key [REDACTED]');
    expect(Redactor.from({ emails: true, patterns: [/project-\d+/] }).text(`${text} project-42`)).toBe('mail [REDACTED] the key [REDACTED] [REDACTED]');
  });

  it('two policies side by side never affect each other', () => {
    const strict = Redactor.from({ patterns: [/internal-\w+/] });
    const lenient = Redactor.from({ emails: false });
    const text = 'ann@example.com internal-build';
    for (let i = 0; i < 3; i++) {
      expect(strict.text(text)).toBe('[REDACTED] [REDACTED]');
      expect(lenient.text(text)).toBe(text);
    }
  });

  it('masks every match of a user pattern, even without the g flag, and ignores empty matches', () => {
    const redactor = Redactor.from([/ticket-\d+/, /x*/]);
    expect(redactor.text('ticket-1 and ticket-2')).toBe('[REDACTED] and [REDACTED]');
    expect(redactor.text('abc')).toBe('abc');
  });

  it('serializes with masked values and keys', () => {
    const redactor = Redactor.from(true);
    expect(redactor.json({ tokens: { [KEY]: { owner: 'ann@example.com' } } })).toBe('{"tokens":{"[REDACTED]":{"owner":"[REDACTED]"}}}');
    expect(JSON.stringify({ a: [KEY] }, redactor.replacer)).toBe('{"a":["[REDACTED]"]}');
  });

  it('masks a secret in a String object (from any realm) as in a string: JSON writes the box as its text', () => {
    const redactor = Redactor.from(true);
    const foreign = runInNewContext(`new String('key ${KEY}')`) as object;
    const json = redactor.json({ role: 'user', content: new String(`key ${KEY}`), parts: [foreign] });
    expect(json).toBe('{"role":"user","content":"key [REDACTED]","parts":["key [REDACTED]"]}');
  });

  it('masks a session id that holds a secret, keeping distinct ids distinct and one id stable', () => {
    const redactor = Redactor.from(true);
    const a = redactor.sessionId('support:ann@example.com');
    const b = redactor.sessionId('support:bob@example.com');
    expect(a).toMatch(/^support:\[REDACTED\]-[0-9a-f]{12}$/);
    expect(b).not.toBe(a);
    expect(Redactor.from(true).sessionId('support:ann@example.com')).toBe(a); // same in every process
    expect(sanitizeSessionId(a)).not.toContain('example');
    expect(redactor.sessionId(`run-${KEY}`)).not.toContain(KEY);
    expect(redactor.sessionId('ask-0b7e-41')).toBe('ask-0b7e-41');
    expect(redactor.sessionId(null)).toBeNull();
  });

  it('never throws on runs of megabytes (a greedy run overflowed the regex stack), and still masks', () => {
    const redactor = Redactor.from(true);
    const masked: Array<[string, string, string]> = [
      ['sk-', 'a', REDACTED], ['ghp_', 'a', REDACTED], ['github_pat_', 'a', REDACTED], ['xoxb-', 'a', REDACTED],
      ['Bearer ', 'a', `Bearer ${REDACTED}`], ['Basic ', 'YWI6Y2Q6', `Basic ${REDACTED}`], ['Authorization: Basic ', 'A', `Authorization: Basic ${REDACTED}`],
      ['-----BEGIN PRIVATE KEY-----\n', 'A', REDACTED], ['-----BEGIN PRIVATE KEY-----', ' ', REDACTED],
    ];
    for (const [prefix, fill, expected] of masked) expect(redactor.text(`${prefix}${fill.repeat(12 * MB / fill.length)}`), prefix).toBe(expected);
    // Near misses over a long run: nothing to mask, and no throw either.
    for (const text of ['Bearer' + ' '.repeat(12 * MB), `http://u:${'p'.repeat(12 * MB)}`, `a@${'b.'.repeat(6 * MB)}`]) {
      expect(redactor.text(text)).toBe(text);
    }
  });

  it('runs user patterns on the linear engine: a greedy loop over 16 MB that overflowed the backtracking stack is masked precisely', () => {
    const redactor = Redactor.from([/x(?:[a-z]|\d)+/]);
    expect(redactor.text(`start x${'a'.repeat(16 * MB)} end`)).toBe('start [REDACTED] end');
    expect(redactor.text('start xa1 end')).toBe('start [REDACTED] end');
    // Flags carry over; positions are UTF-16 like the text's.
    expect(Redactor.from({ emails: false, patterns: [/TICKET-\d+/i] }).text('😀 ticket-7 é Ticket-8')).toBe('😀 [REDACTED] é [REDACTED]');
    expect(Redactor.from([/(?<=id=)\d+/]).text('id=42 and 43')).toBe('id=[REDACTED] and 43');
  });

  it('fails closed on a user pattern the linear engine cannot run: every text masked whole, the reason without the pattern', () => {
    const redactor = Redactor.from({ emails: false, patterns: [/ok-\d+/, /hunter2(?=!)/] });
    expect(redactor.refusedPatterns).toEqual([{ index: 1, reason: expect.stringMatching(/lookahead/) }]);
    expect(redactor.refusedPatterns[0]?.reason).not.toContain('hunter2');
    expect(redactor.text('nothing secret here')).toBe(REDACTED);
    expect(redactor.text('')).toBe('');
    expect(Redactor.from([/ok-\d+/]).refusedPatterns).toEqual([]);
  });

  it('masks phone numbers with { phones: true } only', () => {
    const text = 'call 555-123-4567 or (555) 123-4567, not v1.2.3 nor 2024-01-15';
    expect(Redactor.from({ phones: true }).text(text)).toBe('call [REDACTED] or [REDACTED], not v1.2.3 nor 2024-01-15');
    expect(Redactor.from(true).text(text)).toBe(text);
  });
});
