import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createInlineBlobHasher } from '../../lib/gemini/blob-hasher.ts';

describe('the blob hasher', () => {
  it('gives the sha256 of each blob fed in pieces, blobs interleaved', async () => {
    const hasher = createInlineBlobHasher();
    try {
      const first = hasher.start();
      const second = hasher.start();
      const firstBytes: Buffer[] = [];
      const secondBytes: Buffer[] = [];
      // 20 MB in pieces, some of them views of one slab: the caller may reuse a piece once update resolved.
      const slab = randomBytes(300_000);
      for (let index = 0; index < 64; index += 1) {
        const own = randomBytes(300_000);
        const view = slab.subarray(index * 10, index * 10 + 1000);
        (index % 2 === 0 ? firstBytes : secondBytes).push(Buffer.from(own), Buffer.from(view));
        await hasher.update(index % 2 === 0 ? first : second, [own, view]);
        own.fill(0);
      }
      expect(slab.length).toBe(300_000);
      const empty = hasher.start();
      expect(await hasher.digest(second)).toBe(createHash('sha256').update(Buffer.concat(secondBytes)).digest('hex'));
      expect(await hasher.digest(first)).toBe(createHash('sha256').update(Buffer.concat(firstBytes)).digest('hex'));
      expect(await hasher.digest(empty)).toBe(createHash('sha256').digest('hex'));
    } finally {
      await hasher.close();
    }
  });
});
