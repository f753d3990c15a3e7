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
  return cutInputMessages(bytes, endOfContainerBytes)?.text as string;
}

/**
 * The same, but the last list is kept: in a turn record that is the
 * aggregator's (it follows the references), whose messages tell where a user
 * turn starts when the record has no `iteration`.
 */
export function decodeWithLastInputMessages(bytes: Buffer): string {
  return cutInputMessages(bytes, endOfContainerBytes, undefined, true)?.text as string;
}

/** A line with its message lists cut out, and how deep the deepest of them nests (the list itself is level 1). */
export interface CheckedCut {
  text: string;
  depth: number;
}

/**
 * Like `decodeWithoutInputMessages`, for a reader that must report every
 * problem a full read reports (`validate`): each list is checked to be valid
 * JSON before it is cut (a byte scan, cheaper than decoding and parsing it),
 * and its depth is measured. Null when a list is not valid JSON or nests more
 * than `maxDepth` levels: the caller reads that line whole, so the problem is
 * named exactly as before.
 */
export function decodeWithoutCheckedInputMessages(bytes: Buffer, maxDepth: number): CheckedCut | null {
  const checker = checkerFor(maxDepth);
  checker.reset();
  return cutInputMessages(bytes, (b, start) => checker.endOfArray(b, start), () => checker.deepest);
}

/** One checker per depth limit, reused line after line (it is reset for each). */
const checkers = new Map<number, JsonChecker>();
function checkerFor(maxDepth: number): JsonChecker {
  let checker = checkers.get(maxDepth);
  if (checker === undefined) {
    checker = new JsonChecker(maxDepth);
    checkers.set(maxDepth, checker);
  }
  return checker;
}

function cutInputMessages(
  bytes: Buffer, endOf: (bytes: Buffer, start: number) => number, depth: () => number = () => 0, keepLast = false,
): CheckedCut | null {
  const parts: string[] = [];
  let from = 0;
  let lastCut = -1;
  let lastStart = 0;
  let lastEnd = 0;
  for (let at = bytes.indexOf(KEY_BYTES, from); at >= 0; at = bytes.indexOf(KEY_BYTES, from)) {
    let valueStart = at + KEY_BYTES.length;
    while (bytes[valueStart] === SPACE) valueStart += 1;
    if (bytes[valueStart] !== OPEN_BRACKET) {
      parts.push(bytes.toString('utf8', from, valueStart));
      from = valueStart;
      continue;
    }
    const end = endOf(bytes, valueStart);
    if (end === REFUSED) return null;
    if (end < 0) break;
    parts.push(bytes.toString('utf8', from, valueStart), '[]');
    if (keepLast) {
      // Only the range: the list is decoded once it is known to be the last.
      lastCut = parts.length - 1;
      lastStart = valueStart;
      lastEnd = end + 1;
    }
    from = end + 1;
  }
  if (lastCut >= 0) parts[lastCut] = bytes.toString('utf8', lastStart, lastEnd);
  if (from === 0) return { text: bytes.toString('utf8'), depth: depth() };
  parts.push(bytes.toString('utf8', from));
  return { text: parts.join(''), depth: depth() };
}

/** What a checking scan returns for a list it will not vouch for. */
const REFUSED = -2;

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

/** The unescaped quote ending a string whose contents start at `from` (just after its opening quote), or -1. */
export function closingQuoteByte(bytes: Buffer, from: number): number {
  for (let quote = bytes.indexOf(QUOTE, from); quote >= 0; quote = bytes.indexOf(QUOTE, quote + 1)) {
    let backslashes = 0;
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote;
  }
  return -1;
}

const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const LOWER_U = 0x75;

/** Bytes that may follow a backslash in a JSON string (u is checked apart). */
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);
const LITERALS = [Buffer.from('true'), Buffer.from('false'), Buffer.from('null')];
/** Bytes below 0x20 (read as latin1, each byte one character: a multi-byte character never looks like one). */
const CONTROL_CHARACTER = /[\x00-\x1f]/;

function isJsonBlank(b: number | undefined): boolean {
  return b === SPACE || b === 0x09 || b === 0x0a || b === 0x0d;
}

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= ZERO && b <= NINE;
}

function isHex(b: number | undefined): boolean {
  return b !== undefined && ((b >= ZERO && b <= NINE) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));
}

/**
 * A JSON grammar check over bytes: it says where a valid array ends, and
 * never vouches for anything `JSON.parse` would refuse (raw control
 * characters in strings, bad escapes or numbers, trailing commas). A list
 * with any control character at all, even a tab between tokens, is left to
 * the full read. UTF-8 is not checked: decoding replaces bad sequences, it
 * never fails.
 */
class JsonChecker {
  /** Deepest nesting seen over every array checked. */
  deepest = 0;
  /** Per open level: 1 for an object, 0 for an array. */
  private readonly objects: Uint8Array;
  /** Where the next backslash is (the line's length when there is none), -1 before the first search. */
  private backslash = -1;

  constructor(private readonly maxDepth: number) {
    this.objects = new Uint8Array(maxDepth + 1);
  }

  /** Ready for another line. */
  reset(): void {
    this.deepest = 0;
    this.backslash = -1;
  }

  /** Index of the `]` closing the array at `start`; REFUSED when it is not valid JSON or nests too deep. */
  endOfArray(b: Buffer, start: number): number {
    let depth = 0;
    let i = start;
    const end = b.length;
    // Each turn reads one value at i, then what follows it.
    for (;;) {
      while (isJsonBlank(b[i])) i += 1;
      const c = b[i];
      if (c === OPEN_BRACKET || c === OPEN_BRACE) {
        depth += 1;
        if (depth > this.maxDepth) return REFUSED;
        if (depth > this.deepest) this.deepest = depth;
        const object = c === OPEN_BRACE;
        this.objects[depth] = object ? 1 : 0;
        i += 1;
        while (isJsonBlank(b[i])) i += 1;
        if (b[i] === (object ? CLOSE_BRACE : CLOSE_BRACKET)) {
          depth -= 1;
          i += 1;
        } else {
          if (object && (i = this.key(b, i)) < 0) return REFUSED;
          continue;
        }
      } else if (c === QUOTE) {
        if ((i = this.string(b, i)) < 0) return REFUSED;
      } else if (c === MINUS || isDigit(c)) {
        if ((i = this.number(b, i)) < 0) return REFUSED;
      } else {
        const literal = LITERALS.find((word) => word[0] === c);
        if (!literal || i + literal.length > end || b.compare(literal, 0, literal.length, i, i + literal.length) !== 0) return REFUSED;
        i += literal.length;
      }
      // After a value: close containers, or a comma and the next value.
      for (;;) {
        // JSON allows no raw control character in a string; between tokens only blanks, which writers never put there.
        if (depth === 0) return CONTROL_CHARACTER.test(b.toString('latin1', start, i)) ? REFUSED : i - 1;
        while (isJsonBlank(b[i])) i += 1;
        if (i >= end) return REFUSED;
        const next = b[i];
        const object = this.objects[depth] === 1;
        if (next === (object ? CLOSE_BRACE : CLOSE_BRACKET)) {
          depth -= 1;
          i += 1;
          continue;
        }
        if (next !== COMMA) return REFUSED;
        i += 1;
        if (object) {
          while (isJsonBlank(b[i])) i += 1;
          if ((i = this.key(b, i)) < 0) return REFUSED;
        }
        break;
      }
    }
  }

  /** A key and its colon at i; the index after the colon, or -1. */
  private key(b: Buffer, at: number): number {
    if (b[at] !== QUOTE) return -1;
    let i = this.string(b, at);
    if (i < 0) return -1;
    while (isJsonBlank(b[i])) i += 1;
    return b[i] === COLON ? i + 1 : -1;
  }

  /**
   * A string at i (its opening quote); the index after its closing quote,
   * or -1. Quotes and backslashes are found by native search (the text
   * between them is not looked at byte by byte); raw control characters are
   * looked for once per list (`endOfArray`).
   */
  private string(b: Buffer, at: number): number {
    let i = at + 1;
    for (;;) {
      const quote = b.indexOf(QUOTE, i);
      if (quote < 0) return -1;
      // The next backslash is searched for once and kept: strings come in order, so the line is searched once in all.
      if (this.backslash < i) {
        const found = b.indexOf(BACKSLASH, i);
        this.backslash = found < 0 ? b.length : found;
      }
      if (this.backslash > quote) return quote + 1;
      const escape = this.backslash;
      const escaped = b[escape + 1];
      if (escaped === LOWER_U) {
        if (!(isHex(b[escape + 2]) && isHex(b[escape + 3]) && isHex(b[escape + 4]) && isHex(b[escape + 5]))) return -1;
        i = escape + 6;
      } else if (escaped !== undefined && SIMPLE_ESCAPES.has(escaped)) {
        i = escape + 2;
      } else {
        return -1;
      }
    }
  }

  /** A number at i; the index after it, or -1. */
  private number(b: Buffer, at: number): number {
    let i = at;
    if (b[i] === MINUS) i += 1;
    if (b[i] === ZERO) i += 1;
    else if (isDigit(b[i])) while (isDigit(b[i])) i += 1;
    else return -1;
    if (b[i] === DOT) {
      i += 1;
      if (!isDigit(b[i])) return -1;
      while (isDigit(b[i])) i += 1;
    }
    if (b[i] === LOWER_E || b[i] === UPPER_E) {
      i += 1;
      if (b[i] === PLUS || b[i] === MINUS) i += 1;
      if (!isDigit(b[i])) return -1;
      while (isDigit(b[i])) i += 1;
    }
    return i;
  }
}
