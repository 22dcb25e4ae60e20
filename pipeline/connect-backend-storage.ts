import type { Backend, UploadFunction } from '../lib/gemini/connected-backend.ts';
import type { ExecutorEnvironment } from '../lib/gemini/batch-executor.ts';
import type { BatchService } from '../lib/gemini/batch-service.ts';
import type { RetryPolicy } from '../lib/gemini/call-with-retry.ts';
import { deleteUploads, type DeleteUploadsReport } from '../lib/gemini/delete-uploads.ts';
import { throwIfNoUploadReachedTheApi } from '../lib/gemini/detect-unreachable-api.ts';
import { uploadFiles, type UploadOutcome } from '../lib/gemini/upload-files.ts';
import type { UploadRegistry } from '../lib/gemini/upload-registry.ts';
import { deleteReferenceObjects, uploadReferences } from '../lib/vertex/upload-references.ts';
import { createVertexBatchService } from '../lib/vertex/vertex-batch-service.ts';
import { createGeminiBatchService } from '../lib/gemini/gemini-batch-service.ts';
import type { Logger } from '../lib/logger.ts';
import type { GeminiSettings } from '../schemas/gemini-settings.ts';

/** The network gone: one error for the run, not a failure per image. */
function requireOneReached(outcomes: Map<string, UploadOutcome>): Map<string, UploadOutcome> {
  throwIfNoUploadReachedTheApi(outcomes);
  return outcomes;
}

/** Where a backend keeps the run's files: its uploads, their deletion, and the batch service over them. */
export interface BackendStorage {
  upload: UploadFunction;
  deleteUploads(sha256s: Iterable<string>): Promise<DeleteUploadsReport>;
  batchService: BatchService;
}

/**
 * The Files API for the Gemini API and the emulator; the backend's bucket for Vertex AI (references content-addressed
 * under the workspace's folder, request files and results beside them). Uploads go through the registry either way.
 */
export function connectBackendStorage(options: {
  backend: Backend;
  registry: UploadRegistry;
  settings: GeminiSettings;
  workspace: { directory: string; id: string };
  environment: ExecutorEnvironment;
  retry: { policy: RetryPolicy; environment: ExecutorEnvironment };
  signal: AbortSignal;
  logger: Logger;
}): BackendStorage {
  const { backend, registry, settings, environment, retry, signal } = options;
  const shared = { registry, concurrency: settings.uploadConcurrency, now: environment.now, retry };
  const vertex = backend.vertex;
  if (vertex) {
    const place = { storage: vertex.storage, target: vertex.target, workspaceId: options.workspace.id };
    return {
      batchService: createVertexBatchService({ client: backend.client, ...place, workspace: options.workspace, settings, retry }),
      upload: async (candidates, uploadOptions) =>
        requireOneReached(await uploadReferences({ ...shared, ...place, candidates, signal, idleTimeoutMilliseconds: settings.downloadIdleTimeoutMilliseconds, ...(uploadOptions?.refresh ? { refresh: uploadOptions.refresh } : {}) })),
      deleteUploads: (sha256s) => deleteReferenceObjects({ ...shared, storage: vertex.storage, sha256s }),
    };
  }
  return {
    batchService: createGeminiBatchService({ client: backend.client, connection: backend.connection, workspace: options.workspace, settings, retry, now: environment.now, logger: options.logger }),
    upload: async (candidates, uploadOptions) =>
      requireOneReached(await uploadFiles({ ...shared, client: backend.client, candidates, signal, ...(uploadOptions?.refresh ? { refresh: uploadOptions.refresh } : {}) })),
    deleteUploads: (sha256s) => deleteUploads({ ...shared, client: backend.client, sha256s }),
  };
}
