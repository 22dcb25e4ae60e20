import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobReference } from '../../schemas/blob-reference.ts';

/** The name of a blob still being written (a killed run may leave one behind). */
const temporaryBlobPrefix = 'partial-';

/** Where a stored blob lives: `<blobDirectory>/<sha256>`. */
export function blobPath(options: { blobDirectory: string; blob: BlobReference }): string {
  return join(options.blobDirectory, options.blob.sha256);
}

/**
 * One blob being written into the folder of received answers: a temporary file until `keep` names it by the hash of
 * its bytes, so a reader never sees a blob half written under its final name. The one writer of that folder, used
 * by the streaming result reader (bytes as they are decoded) and by storeBlob (bytes already in memory).
 */
export class BlobFile {
  private readonly directory: string;
  private readonly path: string;
  private readonly handle: FileHandle;
  private isClosed = false;

  private constructor(options: { directory: string; path: string; handle: FileHandle }) {
    this.directory = options.directory;
    this.path = options.path;
    this.handle = options.handle;
  }

  /** Opens a new temporary file in `directory`, which must exist. */
  static async create(directory: string): Promise<BlobFile> {
    const path = join(directory, `${temporaryBlobPrefix}${randomUUID()}`);
    const handle = await open(path, 'wx');
    return new BlobFile({ directory, path, handle });
  }

  /** The pieces in order, in one writev (no copy into one buffer); a short write goes on where it stopped. */
  async write(pieces: readonly Buffer[]): Promise<void> {
    let remaining = pieces.filter((piece) => piece.length > 0);
    while (remaining.length > 0) {
      let { bytesWritten } = await this.handle.writev(remaining);
      let index = 0;
      while (index < remaining.length && bytesWritten >= remaining[index]!.length) {
        bytesWritten -= remaining[index]!.length;
        index += 1;
      }
      remaining = remaining.slice(index);
      if (remaining.length > 0 && bytesWritten > 0) remaining[0] = remaining[0]!.subarray(bytesWritten);
    }
  }

  async close(): Promise<void> {
    this.isClosed = true;
    await this.handle.close();
  }

  /**
   * Names the closed file by its hash, replacing a file of that name: the new bytes hash to it by construction, while
   * a kept file may have been changed on disk since (which is why its answer was asked again).
   */
  async keep(sha256: string): Promise<void> {
    await rename(this.path, join(this.directory, sha256));
  }

  /** Removes the file (when it was not kept); the clean-up after a failure, so it never throws. */
  async discard(): Promise<void> {
    if (!this.isClosed) await this.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }
}

/** Stores bytes already in memory (an answer of a synchronous call) as a blob, creating the folder if missing. */
export async function storeBlob(options: { blobDirectory: string; bytes: Buffer }): Promise<BlobReference> {
  const sha256 = createHash('sha256').update(options.bytes).digest('hex');
  await mkdir(options.blobDirectory, { recursive: true });
  const file = await BlobFile.create(options.blobDirectory);
  try {
    await file.write([options.bytes]);
    await file.close();
    await file.keep(sha256);
  } catch (error) {
    await file.discard();
    throw error;
  }
  return { sha256, bytes: options.bytes.length };
}
