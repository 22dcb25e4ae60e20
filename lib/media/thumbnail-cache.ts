import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { createPermitQueue } from '../permit-queue.ts';
import { writeFileAtomic } from '../store/atomic-file.ts';

/** A thumbnail's bytes and the tag that names its source file as it is now (for conditional requests). */
export interface Thumbnail {
  bytes: Buffer;
  etag: string;
}

export interface ThumbnailCache {
  /** The thumbnail of an image file, made once and kept; undefined when the file is not there (or not an image). */
  read(path: string): Promise<Thumbnail | undefined>;
  /** The etag the thumbnail of this file has now, without making it (a page that has it asks with If-None-Match). */
  readTag(path: string): Promise<string | undefined>;
}

/** Thumbnails fit this box (a gallery tile is at most 260 CSS px wide; twice that would double the bytes for no gain on most screens). */
export const thumbnailMaxSide = 320;
/** WebP quality: a tile is looked at small; 70 keeps faces and lines readable at about a tenth of a full image's bytes. */
const thumbnailQuality = 70;

/**
 * WebP thumbnails of the images a page shows, made with sharp once per image (named by the file's path, size and
 * modification time, so an image replaced by hand gets a new one) and kept in `directory`. At most two are made at
 * once: a page of 60 tiles asks for all of them together, and each decode holds a whole image in memory.
 */
export function createThumbnailCache(options: { directory: string }): ThumbnailCache {
  const making = createPermitQueue({ capacity: 2 });
  const inFlight = new Map<string, Promise<Buffer | undefined>>();
  const describe = async (path: string) => {
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    const tag = createHash('sha256').update(`${path}\0${info.size}\0${Math.floor(info.mtimeMs)}\0${thumbnailMaxSide}\0${thumbnailQuality}`).digest('hex');
    return { tag, file: join(options.directory, `${tag}.webp`) };
  };
  const make = async (source: string, file: string): Promise<Buffer | undefined> => {
    const cached = await readFile(file).catch(() => undefined);
    if (cached) return cached;
    const release = await making.acquire();
    try {
      const bytes = await sharp(source, { failOn: 'none' })
        .rotate()
        .resize({ width: thumbnailMaxSide, height: thumbnailMaxSide, fit: 'inside', withoutEnlargement: true })
        .webp({ quality: thumbnailQuality })
        .toBuffer()
        .catch(() => undefined);
      if (!bytes) return undefined;
      await mkdir(options.directory, { recursive: true });
      await writeFileAtomic(file, bytes);
      return bytes;
    } finally {
      release();
    }
  };
  return {
    async readTag(path) {
      const described = await describe(path);
      return described ? toEtag(described.tag) : undefined;
    },
    async read(path) {
      const described = await describe(path);
      if (!described) return undefined;
      // Two tiles of one image (or a reload mid-way) wait for the same thumbnail rather than make it twice.
      let pending = inFlight.get(described.tag);
      if (!pending) {
        pending = make(path, described.file).finally(() => inFlight.delete(described.tag));
        inFlight.set(described.tag, pending);
      }
      const bytes = await pending;
      return bytes ? { bytes, etag: toEtag(described.tag) } : undefined;
    },
  };
}

function toEtag(tag: string): string {
  return `"${tag.slice(0, 32)}"`;
}
