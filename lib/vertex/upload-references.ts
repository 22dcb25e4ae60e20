import type { Storage } from '@google-cloud/storage';
import { InterruptedError } from '../errors.ts';
import { mapWithConcurrency } from '../map-with-concurrency.ts';
import { toGeminiCallError } from '../gemini/call-with-retry.ts';
import { deleteRegisteredUploads, type DeleteUploadsReport } from '../gemini/delete-uploads.ts';
import type { UploadCandidate, UploadOutcome, UploadRequestOptions } from '../gemini/upload-files.ts';
import { neverExpires, type UploadRecord, type UploadRegistry } from '../gemini/upload-registry.ts';
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
export async function uploadReferences(options: UploadRequestOptions & {
  storage: Storage;
  target: VertexTarget;
  workspaceId: string;
  registry: UploadRegistry;
  candidates: readonly UploadCandidate[];
  concurrency: number;
  now: () => number;
  retry: StorageRetry;
  /** Give up on an upload that moves no byte for this long, and try again; defaultIdleTimeoutMilliseconds unless given. */
  idleTimeoutMilliseconds?: number;
  /** Aborted when the user interrupts: uploads not yet started are left for the next run. */
  signal?: AbortSignal;
}): Promise<Map<string, UploadOutcome>> {
  const distinct = [...new Map(options.candidates.map((candidate) => [candidate.sha256, candidate])).values()];
  const outcomes = await mapWithConcurrency({
    items: distinct,
    concurrency: options.concurrency,
    work: async (candidate): Promise<UploadOutcome> => {
      try {
        const objectName = toReferenceObjectName({ target: options.target, workspaceId: options.workspaceId, sha256: candidate.sha256 });
        const uri = toGcsUri(options.target.bucket, objectName);
        const existing = options.refresh?.has(candidate.sha256) ? undefined : options.registry.findUsable({ sha256: candidate.sha256, now: options.now() });
        if (existing?.uri === uri) return { status: 'uploaded', sha256: candidate.sha256, file: existing, reused: true };
        if (options.signal?.aborted) throw new InterruptedError();
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
        const record: UploadRecord = { sha256: candidate.sha256, name: uri, uri, mimeType: candidate.mimeType, sizeBytes: uploaded.sizeBytes, expirationTime: neverExpires };
        await options.registry.record(record);
        return { status: 'uploaded', sha256: candidate.sha256, file: record, reused: false };
      } catch (error) {
        return { status: 'failed', sha256: candidate.sha256, error: toGeminiCallError(`upload ${candidate.path}`, error) };
      }
    },
  });
  return new Map(outcomes.map((outcome) => [outcome.sha256, outcome]));
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
