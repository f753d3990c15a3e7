/**
 * Exports must not be traced themselves: an app with HTTP instrumentation
 * would otherwise make a span of every export request, export that span,
 * and so on. OpenTelemetry JS marks such work with a context value that its
 * instrumentations check (`isTracingSuppressed` in `@opentelemetry/core`).
 * Context keys are `Symbol.for(description)`, so the same key can be made
 * from the API alone, without depending on the SDK's core package.
 */
import { context, createContextKey, type Context } from '@opentelemetry/api';

const SUPPRESS_TRACING_KEY = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

export function suppressedTracingContext(parent: Context = context.active()): Context {
  return parent.setValue(SUPPRESS_TRACING_KEY, true);
}

/** Runs `work` with tracing suppressed for everything it starts. */
export function withTracingSuppressed<T>(work: () => T): T {
  return context.with(suppressedTracingContext(), work);
}
