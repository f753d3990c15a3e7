/**
 * Exact call content handed from the instrumentation to the JSONL exporter.
 *
 * Span attributes carry messages in the GenAI schema; the file needs the
 * OpenAI messages exactly as sent. Re-deriving them by parsing the attribute
 * would double the cost of every turn, so the instrumentation serializes the
 * exact messages once at call start and parks the text here, on the span object
 * the SDK later hands to exporters.
 */
export interface CallPayload {
  /** The configured provider name (the span carries the GenAI provider name, which may differ). */
  provider: string;
  /** The exact request messages, serialized when the call started. */
  inputMessagesJson: string;
  output: string | null;
  error: string | null;
  /** The aggregator's tool calls, serialized (and redacted) when the call ended; null when none. */
  toolCallsJson: string | null;
  finishReason: string | null;
}

// A symbol-keyed property rather than a WeakMap: thousands of live entries in
// a WeakMap make every garbage collection walk them (ephemerons), which showed
// up as the largest cost of a small turn. The property dies with its span.
const PAYLOAD = Symbol('moa-otel.payload');

type WithPayload = { [PAYLOAD]?: CallPayload };

export function attachPayload(span: object, payload: CallPayload): void {
  // Symbol keys are invisible to Object.keys and JSON.stringify of the span.
  (span as WithPayload)[PAYLOAD] = payload;
}

export function payloadOf(span: object): CallPayload | undefined {
  return (span as WithPayload)[PAYLOAD];
}
