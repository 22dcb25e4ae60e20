/**
 * Pure: the run's items cut into chunks, in their order, each at most `maxItems` long and (when sizes are given) at
 * most `maxBytes` in all; an item larger than `maxBytes` alone is a chunk of its own rather than left out. The same
 * items and limits always give the same chunks, so a rerun's chunks send the same lines as the run it resumes.
 */
export function planFlowChunks<Item>(options: { items: readonly Item[]; maxItems: number; maxBytes?: number; sizeOf?: (item: Item) => number }): Item[][] {
  const maxItems = Math.max(1, options.maxItems);
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  const chunks: Item[][] = [];
  let current: Item[] = [];
  let bytes = 0;
  for (const item of options.items) {
    const size = options.sizeOf?.(item) ?? 0;
    if (current.length > 0 && (current.length >= maxItems || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** `chunk 2 of 8`, said after a stage's line when a run has more than one chunk. */
export function formatChunkLabel(options: { index: number; count: number }): string | undefined {
  return options.count > 1 ? `chunk ${options.index + 1} of ${options.count}` : undefined;
}
