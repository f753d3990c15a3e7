/**
 * The resource of moa-otel's own provider and of replayed spans, from the
 * settings (`config/settings.ts` reads OTEL_RESOURCE_ATTRIBUTES and the
 * service name once).
 */
import type { Attributes } from '@opentelemetry/api';
import type { Env } from '../config/paths.js';
import { resourceAttributes } from '../config/settings.js';

export { defaultServiceName, parseResourceAttributes } from '../config/settings.js';

/** A resource as exporters read it: its attributes. */
export interface ResourceLike {
  readonly attributes: Attributes;
}

export function buildResource(serviceName: string | undefined, env: Env): ResourceLike {
  return { attributes: resourceAttributes(serviceName, env) };
}
