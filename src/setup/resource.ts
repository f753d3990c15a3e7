/**
 * The resource of moa-otel's own provider: OTEL_RESOURCE_ATTRIBUTES (read from
 * the environment handed to setup, so tests and embedders can pass their own),
 * then the service name. `service.version` is the application's to set (in
 * OTEL_RESOURCE_ATTRIBUTES): moa-otel's own version is not the service's.
 */
import path from 'node:path';
import type { Attributes } from '@opentelemetry/api';
import { parseKeyValueList } from '../config/key-value-list.js';
import type { Env } from '../config/paths.js';

/** A resource as exporters read it: its attributes. */
export interface ResourceLike {
  readonly attributes: Attributes;
}

/** `k1=v1,k2=v2` with percent-encoded keys and values; a malformed pair costs only that attribute. */
export function parseResourceAttributes(text: string | undefined): Record<string, string> {
  return parseKeyValueList(text ?? '').entries;
}

/**
 * The SDK's default service name, `unknown_service:<process>`: MoA spans
 * belong to the application's service, not to a service called moa-otel.
 */
export function defaultServiceName(): string {
  return `unknown_service:${path.basename(process.argv0 || 'node')}`;
}

export function buildResource(serviceName: string | undefined, env: Env): ResourceLike {
  const fromEnv = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES);
  // An explicit service name (options, MOA_SERVICE_NAME, OTEL_SERVICE_NAME) wins over
  // OTEL_RESOURCE_ATTRIBUTES, which wins over the default, as the SDK specification orders them.
  const name = serviceName ?? fromEnv['service.name'] ?? defaultServiceName();
  return { attributes: { ...fromEnv, 'service.name': name } };
}
