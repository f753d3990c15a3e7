/**
 * A FIFO of finished spans that keeps count of their estimated bytes, so a
 * processor can bound what waits for export in bytes as well as in spans
 * and drop the oldest first. O(1) push and shift (a moving head, compacted
 * now and then) so dropping under pressure stays cheap.
 */
import type { FinishedSpan } from '../trace/span-data.js';

export interface QueuedSpan {
  span: FinishedSpan;
  bytes: number;
}

/** Compact the backing array once this many slots at its head are spent (and they are most of it). */
const COMPACT_AFTER = 1024;

export class SpanQueue {
  private items: (QueuedSpan | undefined)[] = [];
  private head = 0;
  private totalBytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  push(span: FinishedSpan, bytes: number): void {
    this.items.push({ span, bytes });
    this.totalBytes += bytes;
  }

  /** Removes and returns the oldest span. */
  shift(): QueuedSpan | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    // Release the slot at once: a dropped span must not stay reachable from here.
    this.items[this.head] = undefined;
    this.head++;
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (item) this.totalBytes -= item.bytes;
    return item;
  }

  /** The oldest spans, up to `maxSpans` and `maxBytes` — but at least one when any is queued. */
  take(maxSpans: number, maxBytes: number): QueuedSpan[] {
    const batch: QueuedSpan[] = [];
    let bytes = 0;
    while (this.length > 0 && batch.length < maxSpans) {
      const next = this.items[this.head] as QueuedSpan;
      if (batch.length > 0 && bytes + next.bytes > maxBytes) break;
      bytes += next.bytes;
      batch.push(this.shift() as QueuedSpan);
    }
    return batch;
  }
}
