import type { Storage } from '@google-cloud/storage';
import type { CleanReport } from '../gemini/workspace-jobs.ts';
import { forgetUploadRecords } from '../gemini/upload-registry.ts';
import type { StorageRetry } from './call-storage.ts';
import { deleteObjectsUnder } from './upload-object.ts';
import { toGcsUri, toWorkspaceFolder, type VertexTarget } from './vertex-bucket-layout.ts';

/**
 * `chargen clean` on Vertex AI: deletes every object this workspace put in the bucket (references, request files,
 * results: all under `<prefix>/<workspace id>/`), then forgets its uploads, so the next run puts back what it needs.
 * Nothing there expires on its own, so what cannot be deleted is reported for the user to delete.
 */
export async function cleanWorkspaceObjects(options: { storage: Storage; target: VertexTarget; workspaceId: string; stateDirectory: string; retry: StorageRetry; now: () => number }): Promise<CleanReport & { folder: string }> {
  const prefix = toWorkspaceFolder({ target: options.target, workspaceId: options.workspaceId });
  const report: CleanReport = { deleted: [], gone: [], refused: [] };
  const deleted = await deleteObjectsUnder({
    storage: options.storage,
    bucket: options.target.bucket,
    prefix,
    retry: options.retry,
    onObject: (uri, fate) => (fate === 'deleted' ? report.deleted : report.gone).push(uri),
  });
  report.refused.push(...deleted.failed.map((failure) => ({ name: failure.uri, reason: failure.reason })));
  await forgetUploadRecords({ stateDirectory: options.stateDirectory, now: options.now });
  return { ...report, deleted: report.deleted.sort(), gone: report.gone.sort(), folder: toGcsUri(options.target.bucket, prefix) };
}
