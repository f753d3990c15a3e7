/**
 * Error messages leave the gateway, so every secret it knows of is masked
 * first: provider keys (some providers echo the key they were given), the
 * gateway's own token and anything shaped like a credential.
 */
import { configuredApiKeys } from '../client/providers.js';
import type { Env } from '../config/paths.js';
import type { MoaConfig } from '../config/schema.js';
import { KnownSecrets } from '../content/known-secrets.js';
import { Redactor } from '../content/redact.js';
import type { SecretMask } from './openai-error.js';

export function secretMask(config: MoaConfig, env: Env, extraSecrets: readonly (string | undefined)[] = []): SecretMask {
  const known = new KnownSecrets([...configuredApiKeys(config.providers, env), ...extraSecrets]);
  const shapes = Redactor.from(true);
  return (text) => shapes.text(known.text(text));
}
