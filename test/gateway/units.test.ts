/** The gateway's small decisions, each on its own: loopback, token compare, conversation ids, secret masking. */
import { describe, expect, it } from 'vitest';
import { bearerTokenMatches, bindRefusal, hostHeaderName, isLoopbackHost } from '../../src/gateway/access.js';
import { conversationSessionId } from '../../src/gateway/session-id.js';
import { secretMask } from '../../src/gateway/secret-mask.js';
import { moaConfigSchema } from '../../src/config/schema.js';

describe('access', () => {
  it('knows loopback addresses and names, and nothing else', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', '127.0.0.1.nip.io', 'localhost.evil.com', '::2', '']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('takes the host name out of a Host header', () => {
    expect(['localhost:8788', '[::1]:8788', '[::1]', '127.0.0.1', 'evil.example:80'].map(hostHeaderName)).toEqual(['localhost', '[::1]', '[::1]', '127.0.0.1', 'evil.example']);
  });

  it('needs a token of 16+ characters to listen beyond loopback', () => {
    expect(bindRefusal('127.0.0.1', undefined)).toBeUndefined();
    expect(bindRefusal('0.0.0.0', undefined)).toMatch(/without a token/);
    expect(bindRefusal('0.0.0.0', 'x'.repeat(15))).toMatch(/too short/);
    expect(bindRefusal('0.0.0.0', 'x'.repeat(16))).toBeUndefined();
  });

  it('matches exactly `Bearer <token>`', () => {
    const token = 'tok-0123456789abcdef';
    expect(bearerTokenMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerTokenMatches(`bearer ${token}`, token)).toBe(true);
    for (const header of [undefined, '', token, `Bearer ${token}0`, `Bearer ${token.slice(0, -1)}`, `Basic ${token}`, `Bearer ${token} extra`, 'Bearer ']) {
      expect(bearerTokenMatches(header, token), String(header)).toBe(false);
    }
  });
});

describe('conversationSessionId', () => {
  const opening = [{ role: 'system', content: 'You are helpful.' }, { role: 'user', content: 'Plan my trip.' }];

  it('stays the same as a chat grows, whatever form the text takes', () => {
    const id = conversationSessionId(opening);
    expect(id).toMatch(/^chat-[0-9a-f]{16}$/);
    const grown = [...opening, { role: 'assistant', content: null, tool_calls: [{ id: 'c1' }] }, { role: 'tool', tool_call_id: 'c1', content: 'ok' }, { role: 'user', content: 'And hotels?' }];
    expect(conversationSessionId(grown)).toBe(id);
    const asParts = [{ role: 'system', content: [{ type: 'text', text: 'You are ' }, { type: 'text', text: 'helpful.' }] }, { role: 'user', content: [{ type: 'text', text: 'Plan my trip.' }] }];
    expect(conversationSessionId(asParts)).toBe(id);
  });

  it('differs for another opening: another system prompt, first question or role', () => {
    const id = conversationSessionId(opening);
    expect(conversationSessionId([{ role: 'system', content: 'You are terse.' }, opening[1]])).not.toBe(id);
    expect(conversationSessionId([opening[0], { role: 'user', content: 'Plan my trip!' }])).not.toBe(id);
    expect(conversationSessionId([{ role: 'developer', content: 'You are helpful.' }, opening[1]])).not.toBe(id);
  });
});

describe('secretMask', () => {
  it('masks provider keys from the config and the environment, the token and key-shaped text', () => {
    const config = moaConfigSchema.parse({
      providers: { a: { base_url: 'http://127.0.0.1:1/v1', api_key: 'inline-key-123456' }, b: { base_url: 'http://127.0.0.1:2/v1', api_key_env: 'B_KEY' } },
    });
    const mask = secretMask(config, { B_KEY: 'env-key-abcdefgh' }, ['gateway-token-xyz']);
    expect(mask('a inline-key-123456 b env-key-abcdefgh t gateway-token-xyz o sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX short')).toBe(
      'a [REDACTED] b [REDACTED] t [REDACTED] o [REDACTED] short',
    );
  });
});
