/**
 * Encodes a record for a compact session file (`src/record/compact-format.ts`,
 * docs/compact-format.md): the messages this file does not hold yet, one line
 * each, then the record with its message arrays replaced by ids — all as one
 * write, so a torn tail loses at most the record being written (message lines
 * without their record are harmless: nothing refers to them).
 */
import { statSync } from 'node:fs';
import type { MessageList, MessagePiece } from '../content/message-cache.js';
import { createHash } from 'node:crypto';
import { idFromDigest, messageId, messageLinePrefix, recordLine } from '../record/compact-format.js';
import { splice, type EncodedLine, type RawSlots } from './json-line.js';

const LINE_END = Buffer.from('}\n');
/** Files whose written message ids are remembered; the oldest is forgotten first (it then repeats a few messages, harmlessly). */
const FILES_REMEMBERED = 256;

/** The compact line of a record, or undefined when it must be written in the original format (too large: it is cut there). */
export function encodeCompact(record: unknown, slots: RawSlots, stored: ReadonlySet<string>, maxLineBytes: number): { line: EncodedLine; ids: string[] } | undefined {
  let skeleton: string;
  try {
    skeleton = JSON.stringify(record);
  } catch {
    return undefined;
  }
  const fragments: string[] = [];
  const idLists: string[][] = [];
  const chunks: Buffer[] = [];
  const added: string[] = [];
  const adding = new Set<string>();
  let expandedBytes = 0;
  let fragment = '';
  for (const part of splice(skeleton, slots.values)) {
    if (typeof part === 'string') {
      fragment += part;
      continue;
    }
    fragments.push(fragment);
    expandedBytes += Buffer.byteLength(fragment, 'utf8') + 2;
    fragment = '';
    idLists.push(part.pieces.map((piece) => {
      const bytes = piece.bytes(part.cache.replacer);
      expandedBytes += bytes.length;
      const id = contentId(piece, part);
      if (!stored.has(id) && !adding.has(id)) {
        adding.add(id);
        added.push(id);
        chunks.push(Buffer.from(messageLinePrefix(id), 'utf8'), bytes.subarray(1), LINE_END);
      }
      return id;
    }));
  }
  fragments.push(fragment);
  expandedBytes += Buffer.byteLength(fragment, 'utf8');
  // Every reader must be able to hold the expanded line as one string.
  if (expandedBytes > maxLineBytes) return undefined;
  const recordBytes = Buffer.from(recordLine(fragments, idLists), 'utf8');
  chunks.push(recordBytes);
  return { line: { chunks, byteLength: chunks.reduce((sum, c) => sum + c.length, 0), truncatedChars: 0 }, ids: added };
}

/** Bytes hashed between two pauses. */
const HASH_BYTES_PER_STEP = 1024 * 1024;

/**
 * The content id of a message a slice of hashing at a time (a message of
 * megabytes is a block of its own to hash); the same id as `messageId`.
 */
export function* contentIdInSlices(piece: MessagePiece, list: MessageList): Generator<'step', string, undefined> {
  if (piece.id !== undefined) return piece.id;
  const json = piece.bytes(list.cache.replacer).subarray(1);
  if (json.length <= HASH_BYTES_PER_STEP) return contentId(piece, list);
  const hash = createHash('sha256');
  for (let at = 0; at < json.length; at += HASH_BYTES_PER_STEP) {
    hash.update(json.subarray(at, at + HASH_BYTES_PER_STEP));
    yield 'step';
  }
  piece.id ??= idFromDigest(hash.digest());
  return piece.id;
}

/** The content id of a message (hashing its bytes once; cached on the piece): a step of its own for large records. */
function contentId(piece: MessagePiece, list: MessageList): string {
  piece.id ??= messageId(piece.bytes(list.cache.replacer).subarray(1));
  return piece.id;
}

/**
 * Which messages each compact file already holds, as far as this process
 * knows: those it wrote there since the file was last seen replaced,
 * truncated or removed (then everything is written again).
 */
export class CompactFiles {
  private readonly files = new Map<string, { ids: Set<string>; dev: number; ino: number; size: number }>();

  /** The ids the file holds; empty when it is new to us or was replaced since. */
  stored(file: string): Set<string> {
    const known = this.files.get(file);
    if (!known) return new Set();
    const now = statSync(file, { throwIfNoEntry: false });
    if (!now || now.dev !== known.dev || now.ino !== known.ino || now.size < known.size) {
      this.files.delete(file);
      return new Set();
    }
    return known.ids;
  }

  /** After a whole write: these ids are in the file now. */
  wrote(file: string, ids: readonly string[]): void {
    const now = statSync(file, { throwIfNoEntry: false });
    if (!now) return;
    let known = this.files.get(file);
    if (!known || known.dev !== now.dev || known.ino !== now.ino) known = { ids: new Set(), dev: now.dev, ino: now.ino, size: 0 };
    for (const id of ids) known.ids.add(id);
    known.size = now.size;
    this.files.delete(file);
    this.files.set(file, known);
    if (this.files.size > FILES_REMEMBERED) this.files.delete(this.files.keys().next().value as string);
  }
}
