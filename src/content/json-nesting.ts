/**
 * The nesting of JSON text, measured without parsing it.
 *
 * Writers use it to keep what they write within what readers can walk
 * (serializers and most readers recurse per level); readers use it to refuse
 * a line too deep to handle before parsing it, and to tell a record cut off by
 * a torn write (containers still open at the end) from any other bad line.
 * Linear and cheap next to parsing: the scan stops only at quotes and
 * brackets and jumps over string contents with indexOf.
 */

export interface JsonNesting {
  /** Deepest level of arrays/objects (the root container is level 1). */
  deepest: number;
  /** The text ends inside a string or with containers still open, as a cut-off JSON text does. */
  unclosed: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;

/** Text that is not JSON gets an answer too, just not a meaningful one. */
export function scanJsonNesting(text: string): JsonNesting {
  const structure = /["[\]{}]/g;
  let depth = 0;
  let deepest = 0;
  for (let match = structure.exec(text); match !== null; match = structure.exec(text)) {
    const code = text.charCodeAt(match.index);
    if (code === QUOTE) {
      const end = closingQuote(text, match.index + 1);
      if (end < 0) return { deepest, unclosed: true };
      structure.lastIndex = end + 1;
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      depth += 1;
      if (depth > deepest) deepest = depth;
    } else {
      depth -= 1;
    }
  }
  return { deepest, unclosed: depth > 0 };
}

/** Whether JSON text nests arrays/objects more than `maxDepth` levels deep. */
export function jsonNestingExceeds(text: string, maxDepth: number): boolean {
  // Deeper than maxDepth takes more than maxDepth opening brackets (and as
  // many closing ones). Most texts have far fewer, which indexOf alone finds
  // out; only the others are scanned.
  if (text.length <= 2 * maxDepth) return false;
  const brackets = occurrencesUpTo(text, '[', maxDepth + 1);
  if (brackets + occurrencesUpTo(text, '{', maxDepth + 1 - brackets) <= maxDepth) return false;
  return scanJsonNesting(text).deepest > maxDepth;
}

/** How many times `char` occurs in `text`, counting no further than `limit`. */
function occurrencesUpTo(text: string, char: string, limit: number): number {
  let count = 0;
  for (let at = text.indexOf(char); at >= 0 && count < limit; at = text.indexOf(char, at + 1)) count += 1;
  return count;
}

/** Index of the quote that ends the string starting at `from`, or -1. */
function closingQuote(text: string, from: number): number {
  for (let quote = text.indexOf('"', from); quote >= 0; quote = text.indexOf('"', quote + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes += 1;
    if (backslashes % 2 === 0) return quote;
  }
  return -1;
}
