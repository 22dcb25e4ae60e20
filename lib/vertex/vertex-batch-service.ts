import type { GoogleGenAI } from '@google/genai';
import type { Storage } from '@google-cloud/storage';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readEchoMatcher } from './match-echoed-requests.ts';
import type { GeminiSettings } from '../../schemas/gemini-settings.ts';
import type { RetryEnvironment, RetryPolicy } from '../gemini/call-with-retry.ts';
import type { BatchService } from '../gemini/batch-service.ts';
import type { JobRecord } from '../gemini/job-record.ts';
import { addKeyLabels } from '../gemini/request-key-labels.ts';
import { createSdkJobCalls } from '../gemini/sdk-job-calls.ts';
import { deleteObjectIfPresent, uploadObjectOnce } from './upload-object.ts';
import { downloadPredictions } from './download-predictions.ts';
import { parseGcsUri, toGcsUri, toRequestObjectName, toResultPrefix, type VertexTarget } from './vertex-bucket-layout.ts';

/**
 * Vertex AI batch prediction as a batch service: request files in the run's bucket (under names made of the job's
 * display name, so an upload redone after a crash lands on the same object), jobs in `batchPredictionJobs` with an
 * explicit `dest` per job (the SDK would derive one; a resumed run must know where to look), keys in the request's
 * labels, results read from the `predictions*.jsonl` Vertex writes under that `dest`.
 */
export function createVertexBatchService(options: {
  client: GoogleGenAI;
  storage: Storage;
  target: VertexTarget;
  workspace: { directory: string; id: string };
  settings: GeminiSettings;
  retry: { policy: RetryPolicy; environment: RetryEnvironment };
}): BatchService {
  const { client, storage, target, workspace, retry } = options;
  const resultPrefix = (record: JobRecord) => toGcsUri(target.bucket, toResultPrefix({ target, workspaceId: workspace.id, stage: record.stage, displayName: record.displayName }));
  return {
    storageLabel: `Cloud Storage (gs://${target.bucket})`,
    formatRequestLine: (line) => ({ request: addKeyLabels(line) }),
    async uploadRequestFile({ path, record }) {
      const objectName = toRequestObjectName({ target, workspaceId: workspace.id, stage: record.stage, displayName: record.displayName });
      await uploadObjectOnce({ storage, bucket: target.bucket, objectName, path, mimeType: 'application/jsonl', retry });
      return { status: 'uploaded', inputName: toGcsUri(target.bucket, objectName) };
    },
    async deleteRequestFile({ inputName }) {
      const { bucket, objectName } = parseGcsUri(inputName);
      await deleteObjectIfPresent({ storage, bucket, objectName, retry });
    },
    async createJob(record) {
      const job = await client.batches.create({ model: record.model, src: record.inputFileName, config: { displayName: record.displayName, dest: resultPrefix(record) } });
      if (!job.name) throw new Error('batchPredictionJobs.create answered without a job name');
      return job.name;
    },
    ...createSdkJobCalls({ client, retry }),
    openEchoMatcher: (record) => readEchoMatcher(join(workspace.directory, record.requestFile)),
    async downloadResults({ resultLocation, destination, slot }) {
      await mkdir(dirname(destination), { recursive: true });
      let bytes = 0;
      const reserveRoom = async (wanted: number) => {
        // The gate says wait while result files it holds will go, and throws when nothing could free room.
        const request = { bytes: wanted, directory: dirname(destination), fileName: resultLocation };
        let answer = await slot.reserveRoom(request);
        while (answer.kind === 'wait') {
          await answer.until;
          answer = await slot.reserveRoom(request);
        }
      };
      try {
        ({ bytes } = await downloadPredictions({ storage, outputDirectory: resultLocation, destination, retry, reserveRoom, idleTimeoutMilliseconds: options.settings.downloadIdleTimeoutMilliseconds }));
      } finally {
        slot.endDownload({ bytesOnDisk: bytes });
      }
    },
  };
}
