import { describe, expect, it } from 'vitest';
import { buildGuidanceMessage, guidanceText, NO_ADVICE_TEXT } from '../../src/client/guidance.js';

describe('guidance block', () => {
  it('names the preset, the aggregator and the references, then one block per reference', () => {
    const message = buildGuidanceMessage({
      preset: 'fast',
      aggregatorLabel: 'openai:gpt-x',
      references: [{ label: 'a:one', output: 'first advice' }, { label: 'b:two', output: 'second advice' }],
    });
    expect(message.role).toBe('user');
    const text = String(message.content);
    expect(text).toContain('"fast"');
    expect(text).toContain('openai:gpt-x');
    expect(text).toContain('1. a:one, 2. b:two');
    expect(text).toContain('Reference 1 — a:one:\nfirst advice');
    expect(text).toContain('Reference 2 — b:two:\nsecond advice');
    expect(text).not.toContain('Unavailable');
    expect(text).not.toContain(NO_ADVICE_TEXT);
  });

  it('omits failed references and names them in an unavailable line', () => {
    const text = guidanceText({
      preset: 'p', aggregatorLabel: 'x:y',
      references: [{ label: 'a:one', output: null, failure: 'timed out after 5 ms' }, { label: 'b:two', output: 'ok' }],
    });
    expect(text).not.toContain('Reference 1 — a:one:');
    expect(text).toContain('Reference 2 — b:two:\nok');
    expect(text).toContain('Unavailable: Reference 1 — a:one (timed out after 5 ms).');
  });

  it('states plainly that no advice is available when all failed', () => {
    const text = guidanceText({
      preset: 'p', aggregatorLabel: 'x:y',
      references: [{ label: 'a:one', output: null }, { label: 'b:two', output: null, failure: 'HTTP 500' }],
    });
    expect(text).toContain(NO_ADVICE_TEXT);
    expect(text).toContain('Unavailable: Reference 1 — a:one; Reference 2 — b:two (HTTP 500).');
  });
});
