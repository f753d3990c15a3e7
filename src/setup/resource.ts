/**
 * The resource of moa-otel's provider: OTEL_RESOURCE_ATTRIBUTES (read from the
 * environment handed to setup, so tests and embedders can pass their own),
 * then the service name and version.
 */
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { parseKeyValueList } from '../config/key-value-list.js';
import type { Env } from '../config/paths.js';
import { PACKAGE_VERSION } from '../base/version.js';

/** `k1=v1,k2=v2` with percent-encoded keys and values; a malformed pair costs only that attribute. */
export function parseResourceAttributes(text: string | undefined): Record<string, string> {
  return parseKeyValueList(text ?? '').entries;
}

export function buildResource(serviceName: string | undefined, env: Env): Resource {
  const fromEnv = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES);
  // An explicit service name (options, MOA_SERVICE_NAME, OTEL_SERVICE_NAME) wins over
  // OTEL_RESOURCE_ATTRIBUTES, which wins over the default, as the SDK specification orders them.
  const name = serviceName ?? fromEnv['service.name'] ?? 'moa-otel';
  return resourceFromAttributes({ ...fromEnv, 'service.name': name, 'service.version': fromEnv['service.version'] ?? PACKAGE_VERSION });
}
