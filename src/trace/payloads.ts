/**
 * Exact call content handed from the instrumentation to the JSONL exporter.
 *
 * Span attributes carry messages in the GenAI schema; the file needs the
 * OpenAI messages exactly as sent. Re-deriving them by parsing the attribute
 * would double the cost of every turn, so the instrumentation serializes the
 * exact messages once at call start and parks the text here, keyed by the span
 * object the SDK later hands to exporters. A WeakMap: nothing outlives its span.
 */
export interface CallPayload {
  /** The configured provider name (the span carries the GenAI provider name, which may differ). */
  provider: string;
  /** The exact request messages, serialized when the call started. */
  inputMessagesJson: string;
  output: string | null;
  error: string | null;
  toolCalls: readonly unknown[] | null;
  finishReason: string | null;
}

const payloads = new WeakMap<object, CallPayload>();

export function attachPayload(span: object, payload: CallPayload): void {
  payloads.set(span, payload);
}

export function payloadOf(span: object): CallPayload | undefined {
  return payloads.get(span);
}
