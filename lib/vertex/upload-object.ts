import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { File, Storage } from '@google-cloud/storage';
import { computeFileCrc32c, formatCrc32c } from '../crc32c.ts';
import { GeminiCallError } from '../errors.ts';
import { createStall } from '../gemini/open-download-response.ts';
import { mapWithConcurrency } from '../map-with-concurrency.ts';
import { callStorageWithRetry, defaultIdleTimeoutMilliseconds, listObjectPages, type StorageRetry } from './call-storage.ts';
import { toGcsUri } from './vertex-bucket-layout.ts';

/**
 * Files up to this size go up in one multipart request, larger ones through a resumable session: Google's upload
 * guidance suggests resumable uploads for large files and single requests for small ones, and 8 MiB is the chunk
 * size the Files API path already uses for the same images.
 */
export const resumableAboveBytes = 8 * 1024 * 1024;

export interface UploadedObject {
  /** `created` by this call, or `existing`: already there (a 412 to the create-only write) with the file's size. */
  status: 'created' | 'existing';
  uri: string;
  sizeBytes: number;
}

/**
 * One attempt at the create-only write, streamed from disk. It is given up (retryably) once no byte has been read
 * for `idleTimeoutMilliseconds`, the answer's wait included: @google-cloud/storage 7.22 waits forever on an answer
 * whose connection drops part-way (seen here on Node 20 for a multipart upload, its `timeout` option set or not).
 */
async function sendFile(options: { file: File; path: string; size: number; mimeType: string; operation: string; idleTimeoutMilliseconds: number; signal?: AbortSignal }): Promise<void> {
  const source = createReadStream(options.path);
  const destination = options.file.createWriteStream({
    resumable: options.size > resumableAboveBytes,
    contentType: options.mimeType,
    metadata: { contentType: options.mimeType },
    preconditionOpts: { ifGenerationMatch: 0 },
    validation: 'crc32c',
  });
  const stall = createStall({ idleTimeoutMilliseconds: options.idleTimeoutMilliseconds });
  stall.watch({ destroy: (error) => destination.destroy(new GeminiCallError({ operation: options.operation, status: undefined, message: `${error.message}, taken as a lost connection`, isRetryable: true })) });
  source.on('data', () => stall.arm());
  stall.arm();
  try {
    await pipeline(source, destination, ...(options.signal ? [{ signal: options.signal }] : []));
  } finally {
    stall.clear();
  }
}

/**
 * Uploads a local file to `objectName` only if no object of that name exists (`ifGenerationMatch: 0`), streamed from
 * disk (never whole in memory), with the client's crc32c check of what arrived. The names it is used for are
 * content-addressed or deterministic, so a 412 means our bytes are there already: fine when the object's size is the
 * file's, otherwise another file holds the name, which is an error. Retryable failures (429, 5xx, lost connections)
 * are tried again by chargen's policy; a retry after a write that landed unseen meets the 412 and is fine.
 */
export async function uploadObjectOnce(options: {
  storage: Storage;
  bucket: string;
  objectName: string;
  path: string;
  mimeType: string;
  retry: StorageRetry;
  /** defaultIdleTimeoutMilliseconds unless given. */
  idleTimeoutMilliseconds?: number;
  signal?: AbortSignal;
}): Promise<UploadedObject> {
  const uri = toGcsUri(options.bucket, options.objectName);
  const operation = `upload ${options.path} to ${uri}`;
  const file = options.storage.bucket(options.bucket).file(options.objectName);
  const { size } = await stat(options.path);
  const attempt = { file, path: options.path, size, mimeType: options.mimeType, operation, idleTimeoutMilliseconds: options.idleTimeoutMilliseconds ?? defaultIdleTimeoutMilliseconds };
  try {
    await callStorageWithRetry({
      operation,
      retry: options.retry,
      ...(options.signal ? { signal: options.signal } : {}),
      call: () => sendFile({ ...attempt, ...(options.signal ? { signal: options.signal } : {}) }),
    });
    return { status: 'created', uri, sizeBytes: size };
  } catch (caught) {
    if (!(caught instanceof GeminiCallError) || caught.status !== 412) throw caught;
  }
  const [metadata] = await callStorageWithRetry({ operation: `get ${uri}`, retry: options.retry, call: () => file.getMetadata() });
  // Its bytes, not only its size: a write whose check failed and whose object the client could not delete again
  // leaves bytes of the right size that are not ours.
  const sameBytes = Number(metadata.size) === size && (metadata.crc32c === undefined || metadata.crc32c === formatCrc32c(await computeFileCrc32c(options.path)));
  if (!sameBytes) {
    throw new GeminiCallError({
      operation,
      status: 412,
      message: `${uri} exists already with other bytes (${String(metadata.size)} bytes, crc32c ${String(metadata.crc32c)}) than this file's ${size}: another file holds its name. Delete that object and run again.`,
      isRetryable: false,
    });
  }
  return { status: 'existing', uri, sizeBytes: size };
}

/** Deletes an object; one already gone (404) is fine. */
export async function deleteObjectIfPresent(options: { storage: Storage; bucket: string; objectName: string; retry: StorageRetry }): Promise<'deleted' | 'gone'> {
  const uri = toGcsUri(options.bucket, options.objectName);
  try {
    await callStorageWithRetry({ operation: `delete ${uri}`, retry: options.retry, call: () => options.storage.bucket(options.bucket).file(options.objectName).delete() });
    return 'deleted';
  } catch (caught) {
    if (caught instanceof GeminiCallError && caught.status === 404) return 'gone';
    throw caught;
  }
}

export interface DeleteObjectsReport {
  deleted: number;
  gone: number;
  failed: { uri: string; reason: string }[];
}

/**
 * Deletes every object whose name starts with `prefix` (for `chargen clean`), a listed page at a time, so the names
 * held never grow with the folder. Deleting behind the listing is safe: a page token is the name the last page ended
 * at, not a count. A delete that fails is reported, and the rest go on.
 */
export async function deleteObjectsUnder(options: {
  storage: Storage;
  bucket: string;
  prefix: string;
  retry: StorageRetry;
  concurrency?: number;
  /** Objects a listed page holds, at most 1,000 (objects.list's maximum). */
  pageSize?: number;
  /** Told each object's fate as it goes (`chargen clean` names them). */
  onObject?: (uri: string, fate: 'deleted' | 'gone') => void;
}): Promise<DeleteObjectsReport> {
  const bucket = options.storage.bucket(options.bucket);
  const report: DeleteObjectsReport = { deleted: 0, gone: 0, failed: [] };
  for await (const files of listObjectPages({ bucket, prefix: options.prefix, retry: options.retry, ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}) })) {
    await mapWithConcurrency({
      items: files,
      concurrency: options.concurrency ?? 8,
      work: async (listed) => {
        try {
          const fate = await deleteObjectIfPresent({ storage: options.storage, bucket: options.bucket, objectName: listed.name, retry: options.retry });
          report[fate] += 1;
          options.onObject?.(toGcsUri(options.bucket, listed.name), fate);
        } catch (caught) {
          report.failed.push({ uri: toGcsUri(options.bucket, listed.name), reason: caught instanceof Error ? caught.message : String(caught) });
        }
      },
    });
  }
  return report;
}
