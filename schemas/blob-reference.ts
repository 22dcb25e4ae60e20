import { z } from 'zod';

/**
 * Where a received image's (or thought signature's) bytes were put, in place of their base64: the file
 * `<blob folder>/<sha256>`, `bytes` long. The readers write it into each response they keep, so it is read back
 * from the result cache and checked against this schema before a blob is trusted.
 */
export const blobReferenceSchema = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() });
export type BlobReference = z.infer<typeof blobReferenceSchema>;
