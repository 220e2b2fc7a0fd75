/** Maps with at most `concurrency` calls in flight, keeping input order (file handles and vendor rate limits). */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  // One iterator shared by every worker: each takes the next unclaimed item.
  const pending = items.entries();
  async function worker(): Promise<void> {
    for (const [index, item] of pending) results[index] = await work(item);
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, () => worker()));
  return results;
}
