import type { GoogleGenAI } from '@google/genai';
import { callWithRetry, type RetryEnvironment, type RetryPolicy } from './call-with-retry.ts';
import type { BatchService } from './batch-service.ts';
import { listWorkspaceJobs } from './workspace-jobs.ts';

/**
 * The job calls both batch services make the same way through the SDK, which speaks `batches` on the Gemini API and
 * `batchPredictionJobs` on Vertex AI behind one `ai.batches` (states are `JOB_STATE_*` on both once read by it).
 */
export function createSdkJobCalls(options: {
  client: GoogleGenAI;
  retry: { policy: RetryPolicy; environment: RetryEnvironment };
}): Pick<BatchService, 'listJobs' | 'getJob' | 'cancelJob'> {
  const { client, retry } = options;
  return {
    listJobs: ({ workspaceId }) => listWorkspaceJobs({ client, workspaceId, retry }),
    async getJob(jobName) {
      const job = await callWithRetry({ operation: `batches.get ${jobName}`, call: () => client.batches.get({ name: jobName }), ...retry });
      // The Gemini API's result file, or the folder Vertex AI made for its predictions under the `dest` it was given
      // (`outputInfo.gcsOutputDirectory`; `dest.gcsUri` is only that prefix, there before anything is written).
      const resultLocation = job.dest?.fileName ?? job.outputInfo?.gcsOutputDirectory;
      return { state: String(job.state ?? '').replace(/^BATCH_STATE_/, 'JOB_STATE_'), ...(resultLocation ? { resultLocation } : {}) };
    },
    async cancelJob(jobName) {
      await callWithRetry({ operation: `batches.cancel ${jobName}`, call: () => client.batches.cancel({ name: jobName }), ...retry });
    },
  };
}
