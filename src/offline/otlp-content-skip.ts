/**
 * An OTLP JSON line with the values of its `gen_ai.input.messages`
 * attributes emptied before it is decoded, for the commands that never read
 * message lists (the OTLP side of `content-skip.ts`): those values are most
 * of a line's bytes (every call carries the whole conversation, escaped
 * twice), and skipping them costs an indexOf per string instead of decoding
 * and parsing them. The decoder drops the attribute anyway.
 *
 * Only the exact form every OTLP JSON serializer writes is cut — the key,
 * then its value as a string: `{"key":"gen_ai.input.messages","value":{"stringValue":"…"}}`.
 * That sequence cannot occur inside a JSON string (its quotes would be
 * escaped there); anything else is left as it is.
 */
const PREFIX = Buffer.from('"key":"gen_ai.input.messages","value":{"stringValue":"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export function decodeWithoutInputMessageValues(bytes: Buffer): string {
  const parts: string[] = [];
  let from = 0;
  for (let at = bytes.indexOf(PREFIX, from); at >= 0; at = bytes.indexOf(PREFIX, from)) {
    const valueStart = at + PREFIX.length;
    const close = closingQuote(bytes, valueStart);
    if (close < 0) break;
    // Up to the opening quote, then on from the closing one: the value becomes "".
    parts.push(bytes.toString('utf8', from, valueStart));
    from = close;
  }
  if (from === 0) return bytes.toString('utf8');
  parts.push(bytes.toString('utf8', from));
  return parts.join('');
}

/** The unescaped quote ending a string whose contents start at `from`, or -1. */
function closingQuote(bytes: Buffer, from: number): number {
  for (let quote = bytes.indexOf(QUOTE, from); quote >= 0; quote = bytes.indexOf(QUOTE, quote + 1)) {
    let backslashes = 0;
    while (quote - 1 - backslashes >= from && bytes[quote - 1 - backslashes] === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote;
  }
  return -1;
}
