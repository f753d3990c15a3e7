/**
 * The bytes of one trace input — a file or stdin — decompressed when their
 * first bytes say gzip or zstd. Plain files are read with positioned reads
 * into one reused buffer (the fast path every large session takes);
 * compressed data and stdin are streams through `node:zlib`.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { describeFsError, TraceFileError } from './errors.js';
import { openTraceFile, readFileChunks } from './reader.js';
import { detectCompression, type Compression } from './trace-format.js';

/** The argument that means standard input. */
export const STDIN_ARG = '-';
/** How stdin is named in problems and output. */
export const STDIN_NAME = '<stdin>';

const CHUNK = 1 << 20;

export interface ByteSource {
  compression: Compression | null;
  /**
   * The (decompressed) bytes in chunks. A chunk may be overwritten by the
   * next one: the consumer is done with it before pulling again.
   */
  chunks: AsyncIterable<Buffer>;
  /** Raw (compressed) bytes read so far: progress against the file's size. */
  readonly rawBytes: number;
  close(): Promise<void>;
}

/** Compressed data that ends early (a file still being written, a cut download): what was read is kept. */
export class TruncatedInputError extends Error {
  override readonly name = 'TruncatedInputError';
}

export async function openByteSource(file: string, stdin?: NodeJS.ReadableStream): Promise<ByteSource> {
  return file === STDIN_ARG ? openStdin(stdin ?? process.stdin) : openFile(file);
}

async function openFile(file: string): Promise<ByteSource> {
  const handle = await openTraceFile(file);
  let head: Buffer;
  try {
    const probe = Buffer.alloc(8);
    const { bytesRead } = await handle.read(probe, 0, probe.length, 0);
    head = probe.subarray(0, bytesRead);
  } catch (err) {
    await handle.close();
    throw new TraceFileError(`cannot read ${file}: ${describeFsError(err)}`);
  }
  const compression = detectCompression(head);
  if (compression === null && isZstdFrames(head)) return zstdFramesFile(file, handle);
  if (compression === null) return plainFile(file, handle);
  let decompressor: zlib.Gunzip | NodeJS.ReadWriteStream;
  try {
    decompressor = createDecompressor(compression, file);
  } catch (err) {
    await handle.close();
    throw err;
  }
  const raw = handle.createReadStream({ start: 0, autoClose: false, highWaterMark: CHUNK });
  return streamSource(file, compression, raw, decompressor, () => handle.close());
}

function plainFile(file: string, handle: FileHandle): ByteSource {
  let position = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    for await (const chunk of readFileChunks(file, handle, Buffer.allocUnsafe(CHUNK))) {
      position += chunk.length;
      yield chunk;
    }
  }
  return { compression: null, chunks: chunks(), get rawBytes() { return position; }, close: () => handle.close() };
}

/**
 * The collector's file exporter with `compression: zstd` writes each request
 * as its own frame behind a 4-byte big-endian length (no newline): the zstd
 * magic number sits at offset 4.
 */
function isZstdFrames(head: Uint8Array): boolean {
  return head.length >= 8 && detectCompression(head.subarray(4)) === 'zstd';
}

const MAX_FRAME_BYTES = 1 << 30;
const NEWLINE = Buffer.from('\n');

function zstdFramesFile(file: string, handle: FileHandle): ByteSource {
  const decompress = (zlib as { zstdDecompressSync?: (b: Buffer) => Buffer }).zstdDecompressSync;
  let position = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    if (typeof decompress !== 'function') {
      throw new TraceFileError(`cannot read ${file}: it is zstd-compressed (the collector's framed form) and this Node (${process.version}) has no zstd; run moa-otel on Node 22.15 or later`);
    }
    const lengthBytes = Buffer.alloc(4);
    for (;;) {
      let read: number;
      try {
        ({ bytesRead: read } = await handle.read(lengthBytes, 0, 4, position));
      } catch (err) {
        throw new TraceFileError(`cannot read ${file}: ${describeFsError(err)}`);
      }
      if (read === 0) return;
      const length = lengthBytes.readUInt32BE(0);
      if (read < 4 || length > MAX_FRAME_BYTES) throw new TruncatedInputError('zstd frames end early (a file still being written or cut short); the requests before the cut were read');
      const frame = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(frame, 0, length, position + 4);
      if (bytesRead < length) throw new TruncatedInputError('zstd frames end early (a file still being written or cut short); the requests before the cut were read');
      position += 4 + length;
      let text: Buffer;
      try {
        text = (decompress as (b: Buffer) => Buffer)(frame);
      } catch (err) {
        throw new TraceFileError(`cannot read ${file}: zstd data is corrupt (${describeFsError(err)})`);
      }
      yield text;
      yield NEWLINE;
    }
  }
  return { compression: 'zstd', chunks: chunks(), get rawBytes() { return position; }, close: () => handle.close() };
}

async function openStdin(stdin: NodeJS.ReadableStream): Promise<ByteSource> {
  const iterator = (stdin as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const toBuffer = (c: Buffer | string) => (typeof c === 'string' ? Buffer.from(c) : c);
  // Enough of the start to see a magic number (a pipe may hand out one byte at a time).
  const headParts: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < 4) {
    const next = await iterator.next();
    if (next.done) { ended = true; break; }
    const chunk = toBuffer(next.value);
    headParts.push(chunk);
    headBytes += chunk.length;
  }
  const head = Buffer.concat(headParts);
  let raw = head.length;
  async function* rawChunks(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      const chunk = toBuffer(next.value);
      raw += chunk.length;
      yield chunk;
    }
  }
  const compression = detectCompression(head);
  const close = async () => { await iterator.return?.(); };
  if (compression === null) {
    return { compression, chunks: rawChunks(), get rawBytes() { return raw; }, close };
  }
  const decompressor = createDecompressor(compression, STDIN_NAME);
  const source = streamSource(STDIN_NAME, compression, Readable.from(rawChunks(), { objectMode: false }), decompressor, close);
  return { ...source, get rawBytes() { return raw; } };
}

function streamSource(
  name: string, compression: Compression, raw: Readable, decompressor: NodeJS.ReadWriteStream, close: () => Promise<void>,
): ByteSource {
  let rawBytes = 0;
  raw.on('data', (chunk: Buffer) => { rawBytes += chunk.length; });
  let rawError: unknown;
  raw.on('error', (err) => {
    rawError = err;
    (decompressor as unknown as Readable).destroy(err);
  });
  raw.pipe(decompressor as unknown as NodeJS.WritableStream);
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of decompressor as AsyncIterable<Buffer>) yield chunk;
    } catch (err) {
      if (rawError !== undefined) throw new TraceFileError(`cannot read ${name}: ${describeFsError(rawError)}`);
      const code = (err as { code?: unknown }).code;
      if (code === 'Z_BUF_ERROR' || /unexpected end/i.test(String((err as Error).message))) {
        throw new TruncatedInputError(`${compression} data ends early (a file still being written or cut short); the lines before the cut were read`);
      }
      throw new TraceFileError(`cannot read ${name}: ${compression} data is corrupt (${describeFsError(err)})`);
    }
  }
  return {
    compression,
    chunks: chunks(),
    get rawBytes() { return rawBytes; },
    close: async () => {
      raw.destroy();
      (decompressor as unknown as Readable).destroy();
      await close();
    },
  };
}

/**
 * Decompressed bytes come in pieces this large: zlib's default of 16 KiB
 * costs about a third more CPU per byte (more pieces through the stream, a
 * record split over several of them).
 */
const DECOMPRESSED_CHUNK = 1 << 18;

function createDecompressor(compression: Compression, name: string): NodeJS.ReadWriteStream {
  if (compression === 'gzip') return zlib.createGunzip({ chunkSize: DECOMPRESSED_CHUNK });
  const create = (zlib as { createZstdDecompress?: (options?: { chunkSize?: number }) => NodeJS.ReadWriteStream }).createZstdDecompress;
  if (typeof create !== 'function') {
    throw new TraceFileError(
      `cannot read ${name}: it is zstd-compressed and this Node (${process.version}) has no zstd; `
      + 'run moa-otel on Node 22.15 or later, or decompress it first (zstd -dc FILE | moa-otel <command> -)',
    );
  }
  return create({ chunkSize: DECOMPRESSED_CHUNK });
}

/**
 * Copies stdin to an owner-only temporary file, for a command that reads its
 * input twice (`report`). The bytes are copied as they come (compressed ones
 * stay compressed); `remove` deletes the file and its directory.
 */
export async function spoolStdin(stdin: NodeJS.ReadableStream = process.stdin): Promise<{ file: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'moa-otel-stdin-'));
  const file = path.join(dir, 'stdin');
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    await pipeline(stdin, createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    await remove();
    throw new TraceFileError(`cannot read ${STDIN_NAME}: ${describeFsError(err)}`);
  }
  return { file, remove };
}
