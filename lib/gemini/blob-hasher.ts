import { createHash, type Hash } from 'node:crypto';

/**
 * The sha256 of each blob a result reader writes, which names its file. Fed the decoded pieces as they go to disk and
 * asked for the digest at the blob's end.
 */
export interface BlobHasher {
  /** A new blob's hash; `update` and `digest` take the id it returns. */
  start(): number;
  /** Takes the pieces (copied: the caller may reuse them once it resolves); resolves when more may be given. */
  update(id: number, pieces: readonly Buffer[]): Promise<void>;
  digest(id: number): Promise<string>;
  close(): Promise<void>;
}

/**
 * Hashing on the reader's own thread, beside the write. A worker-thread hasher (a shared buffer of slots, the digest
 * by message) was measured with bench:extract on a loaded 2-core machine and lost (best of 5: 142 against 171 MB/s,
 * 5.0 to 5.4 CPU seconds against 4.1 to 4.3, peak RSS 144 against 130 MB): with no core to spare, its copying and
 * messages cost more than the hashing they move. It was removed; the asynchronous interface would take it back.
 */
export function createInlineBlobHasher(): BlobHasher {
  const hashes = new Map<number, Hash>();
  let nextId = 0;
  return {
    start() {
      nextId += 1;
      hashes.set(nextId, createHash('sha256'));
      return nextId;
    },
    async update(id, pieces) {
      const hash = hashes.get(id)!;
      for (const piece of pieces) hash.update(piece);
    },
    async digest(id) {
      const hash = hashes.get(id)!;
      hashes.delete(id);
      return hash.digest('hex');
    },
    async close() {
      hashes.clear();
    },
  };
}
