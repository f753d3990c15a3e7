/**
 * Error messages leave the gateway, so every secret it knows of is masked
 * first: provider keys (some providers echo the key they were given), the
 * gateway's own token and anything shaped like a credential.
 */
import type { Env } from '../config/paths.js';
import type { MoaConfig } from '../config/schema.js';
import { BUILTIN_SECRET_PATTERNS, REDACTED, redactText } from '../content/redact.js';
import type { SecretMask } from './openai-error.js';

/** Shorter values are not masked: they would mangle ordinary words and are not real keys. */
const MIN_SECRET_LENGTH = 8;

export function secretMask(config: MoaConfig, env: Env, extraSecrets: readonly (string | undefined)[] = []): SecretMask {
  const secrets = new Set<string>();
  const add = (value: string | undefined) => {
    if (value !== undefined && value.length >= MIN_SECRET_LENGTH) secrets.add(value);
  };
  for (const provider of Object.values(config.providers)) {
    add(provider.api_key);
    if (provider.api_key_env) add(env[provider.api_key_env]);
  }
  extraSecrets.forEach(add);
  // Longest first: a key that contains another is masked whole.
  const known = [...secrets].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const secret of known) out = out.split(secret).join(REDACTED);
    return redactText(out, BUILTIN_SECRET_PATTERNS);
  };
}
