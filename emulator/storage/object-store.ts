import { createHash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { updateCrc32c } from '../../lib/crc32c.ts';
import type { Clock } from '../clock.ts';

/** One live object: its bytes are on disk at `blobPath`, never in memory. */
export interface StoredObject {
  bucket: string;
  name: string;
  /** Microseconds since the epoch of its creation, unique and rising, as the real service's generations are. */
  generation: number;
  metageneration: number;
  contentType: string;
  size: number;
  md5Base64: string;
  crc32c: number;
  createdMilliseconds: number;
  blobPath: string;
}

export interface ObjectHashes {
  size: number;
  md5Base64: string;
  crc32c: number;
}

/** Throws to refuse a write, given the object there now (`undefined`: none) and the new bytes' hashes. */
export type WriteCheck = (current: StoredObject | undefined, hashes: ObjectHashes) => void;

export interface ObjectStore {
  find(bucket: string, name: string): StoredObject | undefined;
  /** The bucket's objects whose name starts with `prefix`, in name order. */
  list(bucket: string, prefix: string): StoredObject[];
  /**
   * Makes the bytes at `temporaryPath` the object's new generation. `check` runs against the object there at the very
   * moment of the swap (nothing else runs in between), so of two writers that both ask for create-only, one wins.
   */
  commit(options: { bucket: string; name: string; contentType: string; temporaryPath: string; check: WriteCheck }): Promise<StoredObject>;
  remove(object: StoredObject): Promise<void>;
  /** Live objects and their bytes, over every bucket: what a run leaves behind in its bucket. */
  summary(): { objects: number; bytes: number };
  temporaryPath(label: string): string;
  openRead(object: StoredObject, range?: { start: number; end: number }): ReadStream;
  clear(): Promise<void>;
}

async function hashObjectFile(path: string): Promise<ObjectHashes> {
  const md5 = createHash('md5');
  let crc32c = 0;
  let size = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    md5.update(chunk);
    crc32c = updateCrc32c(crc32c, chunk);
    size += chunk.length;
  }
  return { size, md5Base64: md5.digest('base64'), crc32c };
}

function keyOf(bucket: string, name: string): string {
  return `${bucket}\u0000${name}`;
}

/** Cloud Storage objects of every bucket (a bucket exists as soon as it is named), kept under `directory`. */
export function createObjectStore(options: { directory: string; clock: Clock }): ObjectStore {
  const objects = new Map<string, StoredObject>();
  let lastGeneration = 0;
  let temporaryCounter = 0;
  const nextGeneration = () => {
    lastGeneration = Math.max(options.clock.now() * 1000, lastGeneration + 1);
    return lastGeneration;
  };
  return {
    find: (bucket, name) => objects.get(keyOf(bucket, name)),
    list(bucket, prefix) {
      const found = [...objects.values()].filter((object) => object.bucket === bucket && object.name.startsWith(prefix));
      return found.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
    },
    async commit(write) {
      const hashes = await hashObjectFile(write.temporaryPath);
      const blobPath = join(options.directory, `storage-object-${++temporaryCounter}`);
      await rename(write.temporaryPath, blobPath);
      // From here to the swap nothing awaits: the check sees the object the swap replaces.
      const key = keyOf(write.bucket, write.name);
      const current = objects.get(key);
      try {
        write.check(current, hashes);
      } catch (error) {
        await rm(blobPath, { force: true });
        throw error;
      }
      const stored: StoredObject = {
        bucket: write.bucket,
        name: write.name,
        generation: nextGeneration(),
        metageneration: 1,
        contentType: write.contentType,
        ...hashes,
        createdMilliseconds: options.clock.now(),
        blobPath,
      };
      objects.set(key, stored);
      if (current) await rm(current.blobPath, { force: true });
      return stored;
    },
    async remove(object) {
      if (objects.get(keyOf(object.bucket, object.name)) === object) objects.delete(keyOf(object.bucket, object.name));
      await rm(object.blobPath, { force: true });
    },
    summary() {
      let bytes = 0;
      for (const object of objects.values()) bytes += object.size;
      return { objects: objects.size, bytes };
    },
    temporaryPath: (label) => join(options.directory, `storage-tmp-${label}-${temporaryCounter++}`),
    openRead: (object, range) => createReadStream(object.blobPath, range),
    async clear() {
      const paths = [...objects.values()].map((object) => object.blobPath);
      objects.clear();
      await Promise.all(paths.map((path) => rm(path, { force: true })));
    },
  };
}
