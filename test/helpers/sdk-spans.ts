/**
 * Finished spans made by the real OpenTelemetry SDK, so encoders and
 * processors are tested on exactly what a provider hands its processors.
 */
import { SpanKind, type Attributes, type Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanLimits } from '@opentelemetry/sdk-trace-base';

export interface SdkSpanOptions {
  resource?: Record<string, string | number | boolean>;
  spanLimits?: SpanLimits;
}

/** Runs `record` with a tracer of a fresh provider and returns the spans it ended, in end order. */
export async function recordSdkSpans(record: (tracer: (scope?: string, version?: string) => Tracer) => void, options: SdkSpanOptions = {}): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(memory)],
    ...(options.resource ? { resource: resourceFromAttributes(options.resource) } : {}),
    ...(options.spanLimits ? { spanLimits: options.spanLimits } : {}),
  });
  record((scope = 'moa-otel-test', version) => provider.getTracer(scope, version));
  const spans = [...memory.getFinishedSpans()];
  await provider.shutdown();
  return spans;
}

/** One CLIENT span per attribute map, from one tracer. */
export function sdkSpansWithAttributes(specs: ReadonlyArray<{ name: string; attributes: Attributes }>): Promise<ReadableSpan[]> {
  return recordSdkSpans((tracer) => {
    for (const spec of specs) tracer().startSpan(spec.name, { kind: SpanKind.CLIENT, attributes: spec.attributes }).end();
  });
}
