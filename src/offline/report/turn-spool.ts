/**
 * Where `report` keeps the rendered turns while it reads its input: the page
 * opens with the session totals and the insights section, which are known
 * only once the last record is read, and the input is read once. Small
 * reports stay in memory; past SPOOL_MEMORY_BYTES the HTML goes to an
 * owner-only temporary file (it holds prompts and outputs), so memory stays
 * bounded whatever the session's size.
 *
 * Each chunk is encoded to UTF-8 as it is written, into 1 MiB batches, and
 * handed back as bytes when the writer takes them: text is encoded once, as
 * the output would encode it anyway, and no string waits here. A turn's
 * HTML refers to the record's own texts (an escaped text with nothing to
 * escape is the same string); held until a batch filled, they would outlive
 * their record and be copied by every young-generation collection meanwhile.
 */
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** Bytes held in memory before spilling to disk. */
export const SPOOL_MEMORY_BYTES = 8 * 1024 * 1024;
/** Bytes per batch: chunks are encoded into one, which is kept (or written to the file) once full. */
const BATCH_BYTES = 1024 * 1024;
/** UTF-8 bytes per UTF-16 code unit at most (a lone surrogate becomes U+FFFD, 3 bytes). */
const MAX_BYTES_PER_UNIT = 3;
const READ_BYTES = 1024 * 1024;

export class TurnSpool {
  /** The batch being filled and how much of it is. */
  private batch: Buffer | null = null;
  private batchUsed = 0;
  /**
   * Full batches kept in memory: bytes live outside the JavaScript heap,
   * so the page waiting here is not copied around by the garbage collector.
   */
  private memory: Buffer[] = [];
  private memoryBytes = 0;
  private file: { dir: string; handle: FileHandle } | null = null;

  constructor(private readonly memoryLimitBytes = SPOOL_MEMORY_BYTES) {}

  /**
   * Encodes `chunk` now. Each chunk is encoded alone: one must not end in
   * the first half of a surrogate pair whose second half starts the next.
   */
  async write(chunk: string): Promise<void> {
    const worstCase = chunk.length * MAX_BYTES_PER_UNIT;
    if (worstCase > BATCH_BYTES) {
      // Too large for a batch: encoded on its own, exactly sized.
      await this.closeBatch();
      await this.keep(Buffer.from(chunk, 'utf8'));
      return;
    }
    if (this.batch && this.batchUsed + worstCase > this.batch.length) await this.closeBatch();
    const batch = (this.batch ??= Buffer.allocUnsafe(BATCH_BYTES));
    this.batchUsed += batch.write(chunk, this.batchUsed, 'utf8');
  }

  /**
   * Hands everything written, in order, to `write` (text) or, when given,
   * `writeBytes` (what was encoded, without decoding it again).
   */
  async replay(write: (chunk: string) => Promise<void>, writeBytes?: (chunk: Buffer) => Promise<void>): Promise<void> {
    await this.closeBatch();
    if (!this.file) {
      // Each batch is whole chunks encoded: it ends on a character boundary.
      for (const bytes of this.memory) await (writeBytes ? writeBytes(bytes) : write(bytes.toString('utf8')));
      return;
    }
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
    this.batch = null;
    this.batchUsed = 0;
    this.memory = [];
    this.memoryBytes = 0;
    const file = this.file;
    this.file = null;
    if (!file) return;
    await file.handle.close().catch(() => undefined);
    await rm(file.dir, { recursive: true, force: true });
  }

  /** Keeps the batch being filled (what of it is used) and starts none: the next write starts one. */
  private async closeBatch(): Promise<void> {
    const batch = this.batch;
    if (!batch || this.batchUsed === 0) return;
    const used = this.batchUsed;
    this.batch = null;
    this.batchUsed = 0;
    // A batch closed early (the next chunk might not fit) is copied out, so memory
    // held stays close to the bytes counted against the limit.
    await this.keep(used * 2 >= batch.length ? batch.subarray(0, used) : Buffer.from(batch.subarray(0, used)));
  }

  /** Keeps encoded bytes: in memory up to the limit, then everything goes to the file. */
  private async keep(bytes: Buffer): Promise<void> {
    if (!this.file) {
      this.memory.push(bytes);
      this.memoryBytes += bytes.length;
      if (this.memoryBytes <= this.memoryLimitBytes) return;
      this.file = await openSpillFile();
    }
    const batches = this.memory.length > 0 ? this.memory : [bytes];
    this.memory = [];
    for (const batch of batches) await this.file.handle.write(batch);
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
