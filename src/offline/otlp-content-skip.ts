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
import { closingQuoteByte } from './content-skip.js';

const PREFIX = Buffer.from('"key":"gen_ai.input.messages","value":{"stringValue":"');

export function decodeWithoutInputMessageValues(bytes: Buffer): string {
  const parts: string[] = [];
  let from = 0;
  for (let at = bytes.indexOf(PREFIX, from); at >= 0; at = bytes.indexOf(PREFIX, from)) {
    const valueStart = at + PREFIX.length;
    const close = closingQuoteByte(bytes, valueStart);
    if (close < 0) break;
    // Up to the opening quote, then on from the closing one: the value becomes "".
    parts.push(bytes.toString('utf8', from, valueStart));
    from = close;
  }
  if (from === 0) return bytes.toString('utf8');
  parts.push(bytes.toString('utf8', from));
  return parts.join('');
}
