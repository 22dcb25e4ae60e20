import type { Storage } from '@google-cloud/storage';
import { UsageError } from '../errors.ts';
import { formatCount } from '../format-count.ts';
import { findOpenJobRecords, type CleanReport } from '../gemini/workspace-jobs.ts';
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
  // Results in the bucket are answers not yet read while a job is open (they cannot be deleted on the Files API, so
  // there clean never touches them): deleting them would pay for those answers again.
  const open = await findOpenJobRecords(options.stateDirectory);
  if (open.length > 0) {
    const named = open.slice(0, 3).map((record) => record.jobName ?? record.displayName).join(', ');
    throw new UsageError({
      message: `clean: ${formatCount(open.length, 'job')} of this workspace ${open.length === 1 ? 'is' : 'are'} not finished (${named}${open.length > 3 ? ', …' : ''}); their files in the bucket hold answers not yet read. Run \`chargen run\` to collect them (or \`chargen jobs cancel\`, then \`chargen run\`), then clean.`,
    });
  }
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
