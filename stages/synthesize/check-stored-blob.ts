import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { BlobReference } from './core/choose-image.ts';
import { blobPath } from './store-inline-data.ts';

/** `intact`: the bytes hash to the blob's name; `missing`: dropped (or never stored); `changed`: the bytes differ. */
export type StoredBlobState = 'intact' | 'missing' | 'changed';

/**
 * Whether a received image (or signature) in the workspace's store is still what was received: its name is the
 * sha256 of its bytes, so it is read through once and hashed. Only an intact blob is ever placed into an output folder.
 */
export async function checkStoredBlob(options: { blobDirectory: string; blob: BlobReference }): Promise<StoredBlobState> {
  const path = blobPath(options);
  const found = await stat(path).catch(() => undefined);
  if (!found?.isFile()) return 'missing';
  if (found.size !== options.blob.bytes) return 'changed';
  const hash = createHash('sha256');
  try {
    await pipeline(createReadStream(path), hash);
  } catch {
    return 'missing';
  }
  return hash.digest('hex') === options.blob.sha256 ? 'intact' : 'changed';
}
