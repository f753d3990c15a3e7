/**
 * Runs one async job per item, a few at a time, results in item order. Reads
 * of many files overlap their I/O (and their decompression, which zlib runs
 * off the main thread) instead of waiting for each file in turn.
 */
export const DEFAULT_FILE_CONCURRENCY = 4;

export async function mapConcurrent<T, R>(items: readonly T[], limit: number, job: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await job(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
