/**
 * The compact session file (`trace_format: compact`, docs/compact-format.md):
 * JSON Lines where each distinct message is stored once and records refer to
 * it. Shared by the writer (`export`) and the readers (`offline`), so both
 * agree on every byte.
 *
 * - a message line: `{"moa_msg":"<id>","v":<the message's JSON>}`, the id
 *   being the first 120 bits of the SHA-256 of that JSON's UTF-8 bytes in
 *   base64url (20 characters; content-addressed: processes appending to one
 *   file need no agreement);
 * - a record line: `{"moa_rec":[f0,f1,...,fn],"msgs":[l0,...,ln-1]}`: the
 *   original line is f0, then the JSON array of the messages of list l0
 *   (their texts joined by commas, in brackets), then f1, and so on. A list
 *   holds ids, and `[k,from,count]` for `count` ids of the earlier list `k`
 *   of the same record starting at `from` (references and the aggregator
 *   share most of a conversation);
 * - any other line is a line of the original format and stands as it is
 *   (a record too large to be made compact, lines written before the format
 *   was switched on).
 */
import { createHash } from 'node:crypto';

export const MESSAGE_KEY = 'moa_msg';
export const RECORD_KEY = 'moa_rec';

const MESSAGE_LINE = /^\{"moa_msg":"([A-Za-z0-9_-]{20})","v":/;
const RECORD_START = '{"moa_rec":';

/** The id of a message: from its JSON's UTF-8 bytes. */
export function messageId(jsonBytes: Uint8Array): string {
  return idFromDigest(createHash('sha256').update(jsonBytes).digest());
}

/** The id from the SHA-256 digest of a message's JSON (for a writer that hashes it in pieces). */
export function idFromDigest(sha256: Buffer): string {
  return sha256.subarray(0, 15).toString('base64url');
}

/** The text a message line starts with; the message's JSON and `}` follow. */
export function messageLinePrefix(id: string): string {
  return `{"${MESSAGE_KEY}":"${id}","v":`;
}

/** A record line from the fragments of the original line and the ids of each message array between them. */
export function recordLine(fragments: readonly string[], ids: readonly (readonly string[])[]): string {
  return `{"${RECORD_KEY}":${JSON.stringify(fragments)},"msgs":${JSON.stringify(shareRuns(ids))}}`;
}

/** A run shorter than this is written as ids (a reference costs about as much as two ids). */
const MIN_RUN = 3;

/** Each list with its runs of an earlier list's ids replaced by `[k,from,count]`. */
export function shareRuns(lists: readonly (readonly string[])[]): Array<Array<string | [number, number, number]>> {
  const first = new Map<string, [number, number]>();
  return lists.map((list, k) => {
    const out: Array<string | [number, number, number]> = [];
    for (let i = 0; i < list.length;) {
      const at = first.get(list[i] as string);
      let run = 0;
      if (at) {
        const earlier = lists[at[0]] as readonly string[];
        while (i + run < list.length && at[1] + run < earlier.length && earlier[at[1] + run] === list[i + run]) run++;
      }
      if (at && run >= MIN_RUN) {
        out.push([at[0], at[1], run]);
        i += run;
      } else {
        out.push(list[i] as string);
        i++;
      }
    }
    list.forEach((id, i) => { if (!first.has(id)) first.set(id, [k, i]); });
    return out;
  });
}

/** The ids of each list, runs resolved; undefined when a run points where no list is. */
export function resolveRuns(lists: readonly unknown[]): string[][] | undefined {
  const out: string[][] = [];
  for (const list of lists) {
    if (!Array.isArray(list)) return undefined;
    const ids: string[] = [];
    for (const item of list) {
      if (typeof item === 'string') {
        ids.push(item);
        continue;
      }
      if (!Array.isArray(item) || item.length !== 3 || !item.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) return undefined;
      const [k, from, count] = item as [number, number, number];
      const earlier = out[k];
      if (earlier === undefined || from + count > earlier.length) return undefined;
      for (let i = from; i < from + count; i++) ids.push(earlier[i] as string);
    }
    out.push(ids);
  }
  return out;
}

/** What a line of a compact file is: a message (kept), a record (expanded), or a line as it stands. */
export type CompactLine =
  | { kind: 'message' }
  | { kind: 'record'; text: string }
  | { kind: 'plain'; text: string }
  /** `torn`: cut short (a crash mid-write); `missing`: a record whose messages are not in the file before it. */
  | { kind: 'broken'; problem: 'torn' | 'missing'; reason: string };

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
      return { kind: 'broken', problem: 'torn', reason: 'torn line: an incomplete compact message line' };
    }
    if (!text.startsWith(RECORD_START)) return { kind: 'plain', text };
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { kind: 'broken', problem: 'torn', reason: 'torn line: an incomplete compact record line' };
    }
    const fragments = (parsed as { moa_rec?: unknown }).moa_rec;
    const lists = (parsed as { msgs?: unknown }).msgs;
    const ids = Array.isArray(lists) ? resolveRuns(lists) : undefined;
    if (!isStringArray(fragments) || !ids || fragments.length !== ids.length + 1) {
      return { kind: 'broken', problem: 'missing', reason: 'a compact record line of the wrong shape' };
    }
    this.sawCompact = true;
    const out: string[] = [fragments[0] as string];
    for (let i = 0; i < ids.length; i++) {
      const texts: string[] = [];
      for (const id of ids[i] as string[]) {
        const message = this.messages.get(id);
        if (message === undefined) return { kind: 'broken', problem: 'missing', reason: `a compact record refers to message ${id}, which is not in the file before it` };
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
