import { formatCrc32c } from '../../lib/crc32c.ts';
import type { StoredObject } from './object-store.ts';

/** A protobuf varint, as the etag's two fields are written (values up to 2^53, so plain arithmetic). */
function writeVarint(value: number, into: number[]): void {
  let rest = value;
  while (rest >= 0x80) {
    into.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  into.push(rest);
}

/**
 * The object's etag as the real service writes it: base64 of a protobuf message with the generation as field 1 and
 * the metageneration as field 2 (recorded: generation 1790789164648913 at metageneration 2 is `CNGTm8DplpcDEAI=`).
 */
export function objectEtag(generation: number, metageneration: number): string {
  const bytes = [0x08];
  writeVarint(generation, bytes);
  bytes.push(0x10);
  writeVarint(metageneration, bytes);
  return Buffer.from(bytes).toString('base64');
}

/**
 * The object resource in the recorded member order (kind … timeFinalized), int64 fields as strings, times with
 * milliseconds. The links point at this emulator (the real ones name www.googleapis.com and storage.googleapis.com).
 */
export function toObjectResource(object: StoredObject, origin: string): Record<string, unknown> {
  const encodedName = encodeURIComponent(object.name);
  const time = new Date(object.createdMilliseconds).toISOString();
  return {
    kind: 'storage#object',
    id: `${object.bucket}/${object.name}/${object.generation}`,
    selfLink: `${origin}/storage/v1/b/${object.bucket}/o/${encodedName}`,
    mediaLink: `${origin}/download/storage/v1/b/${object.bucket}/o/${encodedName}?generation=${object.generation}&alt=media`,
    name: object.name,
    bucket: object.bucket,
    generation: String(object.generation),
    metageneration: String(object.metageneration),
    contentType: object.contentType,
    storageClass: 'STANDARD',
    size: String(object.size),
    md5Hash: object.md5Base64,
    crc32c: formatCrc32c(object.crc32c),
    etag: objectEtag(object.generation, object.metageneration),
    timeCreated: time,
    updated: time,
    timeStorageClassUpdated: time,
    timeFinalized: time,
  };
}
