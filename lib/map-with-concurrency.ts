/** Runs `work` over `items` with at most `concurrency` at once; results keep the items' order. */
export async function mapWithConcurrency<T, R>(options: {
  items: readonly T[];
  concurrency: number;
  work: (item: T, index: number) => Promise<R>;
}): Promise<R[]> {
  const results = new Array<R>(options.items.length);
  let next = 0;
  const worker = async () => {
    while (next < options.items.length) {
      const index = next;
      next += 1;
      results[index] = await options.work(options.items[index] as T, index);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(options.concurrency, options.items.length)) }, worker);
  await Promise.all(workers);
  return results;
}
