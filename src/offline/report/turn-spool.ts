/**
 * Where `report` keeps the rendered turns while it reads its input: the page
 * opens with the session totals and the insights section, which are known
 * only once the last record is read, and the input is read once. Small
 * reports stay in memory; past SPOOL_MEMORY_CHARS the HTML goes to an
 * owner-only temporary file (it holds prompts and outputs), so memory stays
 * bounded whatever the session's size. The file holds UTF-8 bytes and hands
 * them back as bytes when the writer takes them: text is encoded once, as
 * the output would encode it anyway.
 */
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** Characters held in memory before spilling to disk. */
export const SPOOL_MEMORY_CHARS = 8 * 1024 * 1024;
/** Characters encoded at once (into memory, or written to the temporary file). */
const BATCH_CHARS = 1024 * 1024;
const READ_BYTES = 1024 * 1024;

export class TurnSpool {
  /** Text not encoded yet (less than a batch). */
  private chunks: string[] = [];
  private chunkChars = 0;
  /**
   * Encoded batches kept in memory: bytes live outside the JavaScript heap,
   * so the page waiting here is not copied around by the garbage collector.
   */
  private memory: Buffer[] = [];
  private memoryChars = 0;
  private file: { dir: string; handle: FileHandle } | null = null;

  constructor(private readonly memoryLimitChars = SPOOL_MEMORY_CHARS) {}

  async write(chunk: string): Promise<void> {
    this.chunks.push(chunk);
    this.chunkChars += chunk.length;
    if (this.chunkChars >= BATCH_CHARS) await this.encodeBatch();
  }

  /**
   * Hands everything written, in order, to `write` (text) or, when given,
   * `writeBytes` (what was encoded, without decoding it again).
   */
  async replay(write: (chunk: string) => Promise<void>, writeBytes?: (chunk: Buffer) => Promise<void>): Promise<void> {
    if (!this.file) {
      // Each batch is whole strings encoded: it ends on a character boundary.
      for (const bytes of this.memory) await (writeBytes ? writeBytes(bytes) : write(bytes.toString('utf8')));
      for (const chunk of this.chunks) await write(chunk);
      return;
    }
    await this.encodeBatch();
    // Chunks of bytes may end inside a character: the decoder carries it over.
    const decoder = writeBytes ? null : new StringDecoder('utf8');
    for (let position = 0; ;) {
      // A fresh buffer per read: the writer may hold on to it (a stream queues what it was given).
      const buffer = Buffer.allocUnsafe(READ_BYTES);
      const { bytesRead } = await this.file.handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const bytes = buffer.subarray(0, bytesRead);
      if (decoder) await write(decoder.write(bytes));
      else await (writeBytes as (chunk: Buffer) => Promise<void>)(bytes);
    }
    const rest = decoder?.end();
    if (rest) await write(rest);
  }

  /** Removes the temporary file, if any; safe to call more than once. */
  async dispose(): Promise<void> {
    this.chunks = [];
    this.chunkChars = 0;
    this.memory = [];
    this.memoryChars = 0;
    const file = this.file;
    this.file = null;
    if (!file) return;
    await file.handle.close().catch(() => undefined);
    await rm(file.dir, { recursive: true, force: true });
  }

  /** Encodes the pending text: kept in memory up to the limit, then everything goes to the file. */
  private async encodeBatch(): Promise<void> {
    if (this.chunks.length > 0) {
      const bytes = Buffer.from(this.chunks.join(''), 'utf8');
      this.memoryChars += this.chunkChars;
      this.chunks = [];
      this.chunkChars = 0;
      this.memory.push(bytes);
    }
    if (!this.file && this.memoryChars <= this.memoryLimitChars) return;
    if (!this.file) this.file = await openSpillFile();
    const batches = this.memory;
    this.memory = [];
    for (const bytes of batches) await this.file.handle.write(bytes);
  }
}

async function openSpillFile(): Promise<{ dir: string; handle: FileHandle }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'moa-otel-report-'));
  try {
    return { dir, handle: await open(path.join(dir, 'turns.html'), 'w+', 0o600) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
