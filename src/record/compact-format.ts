/**
 * The compact session file (`trace_format: compact`, docs/compact-format.md):
 * JSON Lines where each distinct message is stored once and records refer to
 * it. Shared by the writer (`export`) and the readers (`offline`), so both
 * agree on every byte.
 *
 * - a message line: `{"moa_msg":"<id>","v":<the message's JSON>}`, the id
 *   being the first 32 hex digits of the SHA-256 of that JSON's UTF-8 bytes
 *   (content-addressed: processes appending to one file need no agreement);
 * - a record line: `{"moa_rec":[f0,f1,...,fn],"msgs":[[id,...],...]}`: the
 *   original line is f0, then the JSON array of the messages of msgs[0]
 *   (their texts joined by commas, in brackets), then f1, and so on;
 * - any other line is a line of the original format and stands as it is
 *   (a record too large to be made compact, lines written before the format
 *   was switched on).
 */
import { createHash } from 'node:crypto';

export const MESSAGE_KEY = 'moa_msg';
export const RECORD_KEY = 'moa_rec';

const MESSAGE_LINE = /^\{"moa_msg":"([0-9a-f]{32})","v":/;
const RECORD_START = '{"moa_rec":';

/** The id of a message: from its JSON's UTF-8 bytes. */
export function messageId(jsonBytes: Uint8Array): string {
  return createHash('sha256').update(jsonBytes).digest('hex').slice(0, 32);
}

/** The text a message line starts with; the message's JSON and `}` follow. */
export function messageLinePrefix(id: string): string {
  return `{"${MESSAGE_KEY}":"${id}","v":`;
}

/** A record line from the fragments of the original line and the ids of each message array between them. */
export function recordLine(fragments: readonly string[], ids: readonly (readonly string[])[]): string {
  return `{"${RECORD_KEY}":${JSON.stringify(fragments)},"msgs":${JSON.stringify(ids)}}`;
}

/** What a line of a compact file is: a message (kept), a record (expanded), or a line as it stands. */
export type CompactLine =
  | { kind: 'message' }
  | { kind: 'record'; text: string }
  | { kind: 'plain'; text: string }
  | { kind: 'broken'; reason: string };

/**
 * Reads a compact file line by line, in order, and gives back each record
 * in the original format, byte for byte. Stateful: it keeps the message
 * table of the file read so far.
 */
export class CompactExpander {
  private readonly messages = new Map<string, string>();
  /** Whether any compact line was seen (a file of the original format never has one). */
  sawCompact = false;

  get messageCount(): number {
    return this.messages.size;
  }

  line(text: string): CompactLine {
    if (text.startsWith('{"moa_msg":"')) {
      const m = MESSAGE_LINE.exec(text);
      if (m && text.endsWith('}')) {
        this.sawCompact = true;
        this.messages.set(m[1] as string, text.slice(m[0].length, -1));
        return { kind: 'message' };
      }
      return { kind: 'broken', reason: 'a message line that is cut or malformed' };
    }
    if (!text.startsWith(RECORD_START)) return { kind: 'plain', text };
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { kind: 'broken', reason: 'a compact record line that is not valid JSON (cut?)' };
    }
    const fragments = (parsed as { moa_rec?: unknown }).moa_rec;
    const ids = (parsed as { msgs?: unknown }).msgs;
    if (!isStringArray(fragments) || !Array.isArray(ids) || fragments.length !== ids.length + 1 || !ids.every(isStringArray)) {
      return { kind: 'broken', reason: 'a compact record line of the wrong shape' };
    }
    this.sawCompact = true;
    const out: string[] = [fragments[0] as string];
    for (let i = 0; i < ids.length; i++) {
      const texts: string[] = [];
      for (const id of ids[i] as string[]) {
        const message = this.messages.get(id);
        if (message === undefined) return { kind: 'broken', reason: `a record refers to message ${id}, which is not in the file before it` };
        texts.push(message);
      }
      out.push('[', texts.join(','), ']', fragments[i + 1] as string);
    }
    return { kind: 'record', text: out.join('') };
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}
