import type { BlobReference } from '../../schemas/blob-reference.ts';
import { BlobFile } from './blob-file.ts';
import type { BlobHasher } from './blob-hasher.ts';
import type { ParserEvent } from './result-line-parser.ts';

interface TemporaryBlob {
  readonly file: BlobFile;
  readonly hashId: number;
  /** The write in flight: one may run while the next chunk is parsed, never more, so memory stays flat. */
  pendingWrite: Promise<void>;
  sha256: string | undefined;
}

/**
 * Writes the images (and signatures) of the line being read as the parser decodes them: temporary files until the
 * line turns out whole, then named by their hash, which the hasher computes beside the writes (each piece once its
 * write is under way, not in the decoder); a broken line's files are removed.
 */
export class BlobSink {
  private readonly directory: string;
  private readonly hasher: BlobHasher;
  private blobs: TemporaryBlob[] = [];

  constructor(options: { directory: string; hasher: BlobHasher }) {
    this.directory = options.directory;
    this.hasher = options.hasher;
  }

  async apply(event: Exclude<ParserEvent, { type: 'line' }>): Promise<void> {
    if (event.type === 'blob-start') {
      this.blobs.push({ file: await BlobFile.create(this.directory), hashId: this.hasher.start(), pendingWrite: Promise.resolve(), sha256: undefined });
      return;
    }
    const blob = this.blobs[this.blobs.length - 1]!;
    await blob.pendingWrite;
    if (event.type === 'blob-data') {
      const write = blob.file.write(event.data);
      // Awaited before the next write or at the end; this only keeps an early failure from counting as unhandled.
      write.catch(() => undefined);
      blob.pendingWrite = write;
      // Hashed while the write goes on; waits only when the hasher is a full buffer behind.
      await this.hasher.update(blob.hashId, event.data);
    } else {
      await blob.file.close();
      await this.name(blob, event.reference);
    }
  }

  /** The blob's hash, into the reference the parser put in the line (it goes out only after this). */
  private async name(blob: TemporaryBlob, reference: BlobReference): Promise<void> {
    blob.sha256 = await this.hasher.digest(blob.hashId);
    reference.sha256 = blob.sha256;
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
