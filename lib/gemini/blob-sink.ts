import { randomUUID } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ParserEvent } from './result-line-parser.ts';

const temporaryBlobPrefix = 'partial-';

interface TemporaryBlob {
  readonly path: string;
  readonly handle: FileHandle;
  /** The write in flight: one may run while the next chunk is parsed, never more, so memory stays flat. */
  pendingWrite: Promise<void>;
  isClosed: boolean;
  sha256: string | undefined;
}

async function writeFully(handle: FileHandle, pieces: Buffer[]): Promise<void> {
  const data = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await handle.write(data, written, data.length - written);
    written += bytesWritten;
  }
}

/**
 * Writes the images (and signatures) of the line being read as the parser decodes them: temporary files until the
 * line turns out whole, then named by their hash; a broken line's files are removed.
 */
export class BlobSink {
  private readonly directory: string;
  private blobs: TemporaryBlob[] = [];

  constructor(directory: string) {
    this.directory = directory;
  }

  async apply(event: Exclude<ParserEvent, { type: 'line' }>): Promise<void> {
    if (event.type === 'blob-start') {
      const path = join(this.directory, `${temporaryBlobPrefix}${randomUUID()}`);
      const handle = await open(path, 'wx');
      this.blobs.push({ path, handle, pendingWrite: Promise.resolve(), isClosed: false, sha256: undefined });
      return;
    }
    const blob = this.blobs[this.blobs.length - 1]!;
    await blob.pendingWrite;
    if (event.type === 'blob-data') {
      const write = writeFully(blob.handle, event.data);
      // Awaited before the next write or at the end; this only keeps an early failure from counting as unhandled.
      write.catch(() => undefined);
      blob.pendingWrite = write;
    } else {
      blob.isClosed = true;
      await blob.handle.close();
      blob.sha256 = event.sha256;
    }
  }

  /**
   * Names each finished image by its hash, replacing a file of that name: the new bytes hash to it by construction,
   * while a kept file may have been changed on disk since (which is why its answer was asked again).
   */
  async keep(): Promise<void> {
    const blobs = this.blobs;
    this.blobs = [];
    for (const blob of blobs) {
      if (blob.sha256 === undefined) await unlink(blob.path);
      else await rename(blob.path, join(this.directory, blob.sha256));
    }
  }

  /** Removes the line's temporary files; also the clean-up when reading stops early, so it never throws. */
  async discard(): Promise<void> {
    const blobs = this.blobs;
    this.blobs = [];
    for (const blob of blobs) {
      await blob.pendingWrite.catch(() => undefined);
      if (!blob.isClosed) await blob.handle.close().catch(() => undefined);
      await unlink(blob.path).catch(() => undefined);
    }
  }
}
