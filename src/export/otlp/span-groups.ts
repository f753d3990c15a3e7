/**
 * An export request nests spans under their resource, then under their
 * instrumentation scope. Resources are grouped by identity (every span of a
 * provider shares one object, and span copies keep it); scopes by what
 * identifies them (name, version, schema URL), since two tracers of the same
 * scope may hold distinct but equal objects. Order is first appearance.
 */
import type { Attributes } from '@opentelemetry/api';
import type { FinishedSpan } from '../../trace/span-data.js';

export type SpanScope = FinishedSpan['instrumentationScope'];

export interface ScopeGroup {
  scope: SpanScope;
  spans: FinishedSpan[];
}

export interface ResourceGroup {
  attributes: Attributes;
  /** The resource's schema URL when the SDK's resource object carries one. */
  schemaUrl: string;
  scopes: ScopeGroup[];
}

function schemaUrlOf(resource: FinishedSpan['resource']): string {
  const url = (resource as { readonly schemaUrl?: unknown }).schemaUrl;
  return typeof url === 'string' ? url : '';
}

function scopeKey(scope: SpanScope): string {
  return JSON.stringify([scope.name, scope.version ?? '', scope.schemaUrl ?? '']);
}

export function groupSpans(spans: readonly FinishedSpan[]): ResourceGroup[] {
  const byResource = new Map<object, { group: ResourceGroup; scopes: Map<string, ScopeGroup> }>();
  // Spans of one tracer share their scope object: compute its key once.
  const keys = new Map<SpanScope, string>();
  const keyOf = (scope: SpanScope): string => {
    let key = keys.get(scope);
    if (key === undefined) {
      key = scopeKey(scope);
      keys.set(scope, key);
    }
    return key;
  };
  for (const span of spans) {
    let entry = byResource.get(span.resource);
    if (entry === undefined) {
      entry = {
        group: { attributes: span.resource.attributes, schemaUrl: schemaUrlOf(span.resource), scopes: [] },
        scopes: new Map(),
      };
      byResource.set(span.resource, entry);
    }
    const key = keyOf(span.instrumentationScope);
    let scopeGroup = entry.scopes.get(key);
    if (scopeGroup === undefined) {
      scopeGroup = { scope: span.instrumentationScope, spans: [] };
      entry.scopes.set(key, scopeGroup);
      entry.group.scopes.push(scopeGroup);
    }
    scopeGroup.spans.push(span);
  }
  return [...byResource.values()].map((entry) => entry.group);
}
