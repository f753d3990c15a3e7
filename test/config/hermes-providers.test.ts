/**
 * The notice for a provider whose base_url names an unset variable is printed
 * on every command: it must not carry what the other variables in that URL
 * expanded to (a password in the user info, a key in the query).
 */
import { describe, expect, it } from 'vitest';
import { expandEnvRefs } from '../../src/config/env-refs.js';
import { readHermesProviders } from '../../src/config/hermes-providers.js';

const SECRET = 'sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6';

describe('a base_url with an unset variable', () => {
  it('is named by the variable, without the values of the variables that were set', () => {
    const doc = {
      providers: {
        proxy: { base_url: '${MOA_PROXY_BASE}/v1?key=${MOA_PROXY_KEY}&password=${MOA_PROXY_PASSWORD}', api_key: 'k' },
      },
    };
    const expanded = expandEnvRefs(doc, { MOA_PROXY_PASSWORD: SECRET, MOA_PROXY_KEY: SECRET }) as Record<string, unknown>;
    const { providers, notices } = readHermesProviders(expanded);
    expect(providers).toEqual({});
    expect(notices).toEqual(['providers.proxy: base_url names a variable that is not set (${MOA_PROXY_BASE}); left out']);
    expect(notices.join('\n')).not.toContain(SECRET);
  });
});
