import type { GoogleGenAI } from '@google/genai';
import { mapWithConcurrency } from '../map-with-concurrency.ts';
import { callWithRetry, toGeminiCallError, type RetryEnvironment, type RetryPolicy } from './call-with-retry.ts';
import type { UploadRecord, UploadRegistry } from './upload-registry.ts';

/** What deleting some uploads came to: freed bytes, files already gone, and the ones the API would not delete. */
export interface DeleteUploadsReport {
  deletedBytes: number;
  deleted: number;
  gone: number;
  failed: { name: string; reason: string }[];
}

/**
 * Deletes the uploads of these bytes (by sha256) that the registry holds, once no pending job references them, and
 * records each deletion: the storage budget counts what is held. `remove` deletes one (retrying as it sees fit) and
 * says whether it was there; what it throws is reported, never thrown on. The Files API's (deleteUploads) and Cloud
 * Storage's (lib/vertex/upload-references.ts) are this with their own `remove`.
 */
export async function deleteRegisteredUploads(options: {
  registry: UploadRegistry;
  sha256s: Iterable<string>;
  concurrency: number;
  now: () => number;
  remove: (record: UploadRecord) => Promise<'deleted' | 'gone'>;
}): Promise<DeleteUploadsReport> {
  const wanted = new Set(options.sha256s);
  // Expired ones too, by this clock: the API's may differ, and a file gone already costs one 404.
  const held = options.registry.listUndeleted().filter((record) => wanted.has(record.sha256));
  const report: DeleteUploadsReport = { deletedBytes: 0, deleted: 0, gone: 0, failed: [] };
  await mapWithConcurrency({
    items: held,
    concurrency: options.concurrency,
    work: async (record) => {
      try {
        report[await options.remove(record)] += 1;
      } catch (caught) {
        report.failed.push({ name: record.name, reason: caught instanceof Error ? caught.message : String(caught) });
        return;
      }
      report.deletedBytes += record.sizeBytes;
      await options.registry.recordDeletion({ sha256: record.sha256, now: options.now() });
    },
  });
  return report;
}

/**
 * Deletes Files API uploads by sha256 (see deleteRegisteredUploads). A file already gone (403/404) counts as
 * deleted. A failure is reported, never thrown: the file expires on its own 48 h after upload.
 */
export async function deleteUploads(options: {
  client: GoogleGenAI;
  registry: UploadRegistry;
  sha256s: Iterable<string>;
  concurrency: number;
  now: () => number;
  retry: { policy: RetryPolicy; environment: RetryEnvironment };
}): Promise<DeleteUploadsReport> {
  return deleteRegisteredUploads({ ...options, remove: (record) => deleteFileIfPresent({ client: options.client, name: record.name, retry: options.retry }) });
}

/** Deletes a Files API file; one already gone (the API answers 403 or 404 for it) is fine. Other failures are thrown. */
export async function deleteFileIfPresent(options: { client: GoogleGenAI; name: string; retry: { policy: RetryPolicy; environment: RetryEnvironment } }): Promise<'deleted' | 'gone'> {
  const { client, name } = options;
  try {
    await callWithRetry({ operation: `files.delete ${name}`, call: () => client.files.delete({ name }), ...options.retry });
    return 'deleted';
  } catch (caught) {
    const error = toGeminiCallError(`files.delete ${name}`, caught);
    if (error.status !== 403 && error.status !== 404) throw error;
    return 'gone';
  }
}
