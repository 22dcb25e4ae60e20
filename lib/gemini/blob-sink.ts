import { BlobFile } from './blob-file.ts';
import type { ParserEvent } from './result-line-parser.ts';

interface TemporaryBlob {
  readonly file: BlobFile;
  /** The write in flight: one may run while the next chunk is parsed, never more, so memory stays flat. */
  pendingWrite: Promise<void>;
  sha256: string | undefined;
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
      this.blobs.push({ file: await BlobFile.create(this.directory), pendingWrite: Promise.resolve(), sha256: undefined });
      return;
    }
    const blob = this.blobs[this.blobs.length - 1]!;
    await blob.pendingWrite;
    if (event.type === 'blob-data') {
      const write = blob.file.write(event.data);
      // Awaited before the next write or at the end; this only keeps an early failure from counting as unhandled.
      write.catch(() => undefined);
      blob.pendingWrite = write;
    } else {
      await blob.file.close();
      blob.sha256 = event.sha256;
    }
  }

  /** Names each finished image by its hash (see BlobFile.keep). */
  async keep(): Promise<void> {
    const blobs = this.blobs;
    this.blobs = [];
    for (const blob of blobs) {
      if (blob.sha256 === undefined) await blob.file.discard();
      else await blob.file.keep(blob.sha256);
    }
  }

  /** Removes the line's temporary files; also the clean-up when reading stops early, so it never throws. */
  async discard(): Promise<void> {
    const blobs = this.blobs;
    this.blobs = [];
    for (const blob of blobs) {
      await blob.pendingWrite.catch(() => undefined);
      await blob.file.discard();
    }
  }
}
