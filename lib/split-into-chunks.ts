/**
 * Pure: items cut into chunks, in their order, each at most `maxItems` long and at most `maxBytes` in all (by
 * `sizeOf`); an item larger than `maxBytes` alone is a chunk of its own rather than left out. The same items and limits
 * always give the same chunks, so a rerun's chunks send the same lines as the run it resumes.
 */
export function splitIntoChunks<Item>(options: { items: readonly Item[]; maxItems: number; maxBytes: number; sizeOf: (item: Item) => number }): Item[][] {
  const chunks: Item[][] = [];
  let current: Item[] = [];
  let bytes = 0;
  for (const item of options.items) {
    const size = options.sizeOf(item);
    if (current.length > 0 && (current.length >= options.maxItems || bytes + size > options.maxBytes)) {
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
