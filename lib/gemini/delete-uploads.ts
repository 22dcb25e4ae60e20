import type { GoogleGenAI } from '@google/genai';
import { mapWithConcurrency } from '../map-with-concurrency.ts';
import { callWithRetry, toGeminiCallError, type RetryEnvironment, type RetryPolicy } from './call-with-retry.ts';
import type { UploadRegistry } from './upload-registry.ts';

/** What deleting some uploads came to: freed bytes, files already gone, and the ones the API would not delete. */
export interface DeleteUploadsReport {
  deletedBytes: number;
  deleted: number;
  gone: number;
  failed: { name: string; reason: string }[];
}

/**
 * Deletes the Files API uploads of these bytes (by sha256) that the registry holds, once no pending job references
 * them, and records each deletion: the storage budget counts what is held. A file already gone (403/404) counts as
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
  const wanted = new Set(options.sha256s);
  // Expired ones too, by this clock: the API's may differ, and a file gone already costs one 404.
  const held = options.registry.listUndeleted().filter((record) => wanted.has(record.sha256));
  const report: DeleteUploadsReport = { deletedBytes: 0, deleted: 0, gone: 0, failed: [] };
  await mapWithConcurrency({
    items: held,
    concurrency: options.concurrency,
    work: async (record) => {
      try {
        await callWithRetry({ operation: `files.delete ${record.name}`, call: () => options.client.files.delete({ name: record.name }), ...options.retry });
        report.deleted += 1;
      } catch (caught) {
        const error = toGeminiCallError(`files.delete ${record.name}`, caught);
        if (error.status !== 403 && error.status !== 404) {
          report.failed.push({ name: record.name, reason: error.message });
          return;
        }
        report.gone += 1;
      }
      report.deletedBytes += record.sizeBytes;
      await options.registry.recordDeletion({ sha256: record.sha256, now: options.now() });
    },
  });
  return report;
}
