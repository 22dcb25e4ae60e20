import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createInlineBlobHasher, createWorkerBlobHasher } from '../../lib/gemini/blob-hasher.ts';

describe.each([
  ['on a worker thread', createWorkerBlobHasher],
  ['inline', createInlineBlobHasher],
])('the blob hasher %s', (_label, createHasher) => {
  it('gives the sha256 of each blob fed in pieces, blobs interleaved, and pieces reused by the caller after update', async () => {
    const hasher = createHasher();
    try {
      const first = hasher.start();
      const second = hasher.start();
      const firstBytes: Buffer[] = [];
      const secondBytes: Buffer[] = [];
      const scratch = Buffer.alloc(300_000);
      // 40 MB through a queue bounded at 16 MB: update waits when the hashing lags.
      for (let index = 0; index < 64; index += 1) {
        const piece = randomBytes(300_000);
        piece.copy(scratch);
        await hasher.update(index % 2 === 0 ? first : second, [scratch.subarray(0, 100_000), scratch.subarray(100_000)]);
        scratch.fill(0);
        (index % 2 === 0 ? firstBytes : secondBytes).push(piece);
      }
      const empty = hasher.start();
      expect(await hasher.digest(second)).toBe(createHash('sha256').update(Buffer.concat(secondBytes)).digest('hex'));
      expect(await hasher.digest(first)).toBe(createHash('sha256').update(Buffer.concat(firstBytes)).digest('hex'));
      expect(await hasher.digest(empty)).toBe(createHash('sha256').digest('hex'));
    } finally {
      await hasher.close();
    }
  });
});
