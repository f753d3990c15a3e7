/**
 * The shapes moa-otel's processors and exporters work on, declared here from
 * `@opentelemetry/api` types only. OpenTelemetry JS 2.x (`sdk-trace-base`) and
 * 3.x (`sdk-trace`) hand processors structurally identical spans, so a
 * processor typed against these interfaces plugs into either SDK — and into
 * moa-otel's own small provider — without depending on any SDK package.
 */
import type { Attributes, Context, HrTime, Link, Span, SpanContext, SpanKind, SpanStatus } from '@opentelemetry/api';

export interface SpanEventData {
  readonly name: string;
  readonly time: HrTime;
  readonly attributes?: Attributes;
  readonly droppedAttributesCount?: number;
}

/** What an SDK's `ReadableSpan` offers (every field moa-otel reads, and the ones exporters need). */
export interface FinishedSpan {
  readonly name: string;
  readonly kind: SpanKind;
  readonly spanContext: () => SpanContext;
  readonly parentSpanContext?: SpanContext | undefined;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly status: SpanStatus;
  readonly attributes: Attributes;
  readonly links: Link[];
  readonly events: SpanEventData[];
  readonly duration: HrTime;
  readonly ended: boolean;
  readonly resource: { readonly attributes: Attributes };
  readonly instrumentationScope: { readonly name: string; readonly version?: string | undefined; readonly schemaUrl?: string | undefined };
  readonly droppedAttributesCount: number;
  readonly droppedEventsCount: number;
  readonly droppedLinksCount: number;
}

/** An SDK `SpanProcessor`, structurally. */
export interface SpanProcessorLike {
  onStart(span: Span, parentContext: Context): void;
  onEnd(span: FinishedSpan): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
  /**
   * moa-otel's own processors only: true while nothing waits to be written,
   * so `forceFlush()` would resolve at once (an SDK processor has no such
   * field and always counts as busy).
   */
  readonly idle?: boolean;
}

/** The SDK's `ExportResultCode` values (0 success, 1 failed), without importing `@opentelemetry/core`. */
export const EXPORT_SUCCESS = 0;
export const EXPORT_FAILED = 1;
export interface ExportResultLike {
  code: typeof EXPORT_SUCCESS | typeof EXPORT_FAILED;
  error?: Error;
}

/** An SDK `SpanExporter`, structurally. */
export interface SpanExporterLike {
  export(spans: FinishedSpan[], resultCallback: (result: ExportResultLike) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}
