import type { Storage } from '@google-cloud/storage';
import { deleteRegisteredUploads, type DeleteUploadsReport } from '../gemini/delete-uploads.ts';
import { uploadEachOnce, type UploadBatchOptions, type UploadCandidate, type UploadOutcome } from '../gemini/upload-files.ts';
import { neverExpires, type UploadRegistry } from '../gemini/upload-registry.ts';
import type { StorageRetry } from './call-storage.ts';
import { deleteObjectIfPresent, uploadObjectOnce } from './upload-object.ts';
import { parseGcsUri, toGcsUri, toReferenceObjectName, type VertexTarget } from './vertex-bucket-layout.ts';

/**
 * Puts each distinct set of reference bytes in the bucket once, at `references/<sha256>` of the workspace's folder,
 * the same contract as uploadFiles (lib/gemini/upload-files.ts): a registered object is reused (it never expires,
 * see neverExpires), the rest go up with bounded concurrency and retries, each recorded as soon as it is up, so a
 * crash loses at most the uploads in flight. `refresh` skips the registry and asks the bucket again: an object that
 * is still there is a 412 and kept, one that is gone is uploaded anew. A record naming another place (the bucket or
 * prefix changed in the config) is not reused.
 */
export async function uploadReferences(options: UploadBatchOptions & {
  storage: Storage;
  target: VertexTarget;
  workspaceId: string;
  retry: StorageRetry;
  /** Give up on an upload that moves no byte for this long, and try again; defaultIdleTimeoutMilliseconds unless given. */
  idleTimeoutMilliseconds?: number;
}): Promise<Map<string, UploadOutcome>> {
  const objectNameOf = (candidate: UploadCandidate) => toReferenceObjectName({ target: options.target, workspaceId: options.workspaceId, sha256: candidate.sha256 });
  return uploadEachOnce({
    ...options,
    isReusable: (record, candidate) => record.uri === toGcsUri(options.target.bucket, objectNameOf(candidate)),
    upload: async (candidate) => {
      const objectName = objectNameOf(candidate);
      const uploaded = await uploadObjectOnce({
        storage: options.storage,
        bucket: options.target.bucket,
        objectName,
        path: candidate.path,
        mimeType: candidate.mimeType,
        retry: options.retry,
        ...(options.idleTimeoutMilliseconds !== undefined ? { idleTimeoutMilliseconds: options.idleTimeoutMilliseconds } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const uri = toGcsUri(options.target.bucket, objectName);
      return { sha256: candidate.sha256, name: uri, uri, mimeType: candidate.mimeType, sizeBytes: uploaded.sizeBytes, expirationTime: neverExpires };
    },
  });
}

/**
 * Deletes the reference objects of these bytes that the registry holds and records each deletion, as deleteUploads
 * does on the Files API; an object already gone (404) counts as deleted, a failure is reported, never thrown.
 */
export async function deleteReferenceObjects(options: {
  storage: Storage;
  registry: UploadRegistry;
  sha256s: Iterable<string>;
  concurrency: number;
  now: () => number;
  retry: StorageRetry;
}): Promise<DeleteUploadsReport> {
  return deleteRegisteredUploads({
    ...options,
    remove: (record) => deleteObjectIfPresent({ storage: options.storage, ...parseGcsUri(record.name), retry: options.retry }),
  });
}
