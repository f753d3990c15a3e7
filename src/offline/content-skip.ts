/**
 * Lines with their message lists cut out before parsing, for the commands
 * that never read them (`stats`, `ls`, the calls table):
 * `input_messages` holds most of a record's bytes (every reference gets the
 * whole conversation), and skipping it by scanning — jumping over string
 * contents with indexOf — costs a fraction of parsing it.
 *
 * What is cut is not checked either: a list nested too deep for the other
 * commands (`too_deep`) is no problem for these, which never walk it.
 * `report` reads whole lines, so its first pass reports every problem.
 *
 * The cut is structural: the key `"input_messages":` cannot occur inside a
 * JSON string (its quotes would be escaped there). A list that does not close
 * is left as it is, for the parser to report.
 */
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const KEY_BYTES = Buffer.from('"input_messages":');
const SPACE = 0x20;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;

/**
 * The line decoded with every `input_messages` array replaced by `[]`. The
 * cut is made on the bytes: the lists are never decoded into a string at all
 * (decoding them costs about as much as parsing them).
 */
export function decodeWithoutInputMessages(bytes: Buffer): string {
  const parts: string[] = [];
  let from = 0;
  for (let at = bytes.indexOf(KEY_BYTES, from); at >= 0; at = bytes.indexOf(KEY_BYTES, from)) {
    let valueStart = at + KEY_BYTES.length;
    while (bytes[valueStart] === SPACE) valueStart += 1;
    if (bytes[valueStart] !== OPEN_BRACKET) {
      parts.push(bytes.toString('utf8', from, valueStart));
      from = valueStart;
      continue;
    }
    const end = endOfContainerBytes(bytes, valueStart);
    if (end < 0) break;
    parts.push(bytes.toString('utf8', from, valueStart), '[]');
    from = end + 1;
  }
  if (from === 0) return bytes.toString('utf8');
  parts.push(bytes.toString('utf8', from));
  return parts.join('');
}

function endOfContainerBytes(bytes: Buffer, start: number): number {
  let depth = 0;
  for (let i = start; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b === QUOTE) {
      i = closingQuoteByte(bytes, i + 1);
      if (i < 0) return -1;
    } else if (b === OPEN_BRACKET || b === OPEN_BRACE) {
      depth += 1;
    } else if (b === CLOSE_BRACKET || b === CLOSE_BRACE) {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function closingQuoteByte(bytes: Buffer, from: number): number {
  for (let quote = bytes.indexOf(QUOTE, from); quote >= 0; quote = bytes.indexOf(QUOTE, quote + 1)) {
    let backslashes = 0;
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote;
  }
  return -1;
}
