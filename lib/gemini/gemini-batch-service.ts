import type { GoogleGenAI } from '@google/genai';
import type { Logger } from '../logger.ts';
import type { GeminiSettings } from '../../schemas/gemini-settings.ts';
import { callWithRetry, type RetryEnvironment, type RetryPolicy } from './call-with-retry.ts';
import type { BatchService } from './batch-service.ts';
import { DiskFullError } from '../errors.ts';
import { downloadResultFile } from './download-result-file.ts';
import type { ResultFileSlot } from './result-file-gate.ts';
import type { GeminiConnection } from './create-gemini-client.ts';
import { createSdkJobCalls } from './sdk-job-calls.ts';
import { createRequestFileUploader } from './upload-request-file.ts';

/** A Gemini API request line: the key beside the request, and returned beside its answer. */
export function formatGeminiRequestLine(line: { key: string; request: Record<string, unknown> }): Record<string, unknown> {
  return { key: line.key, request: line.request };
}

/**
 * The Gemini Developer API as a batch service: request files on the Files API (under a MIME type it takes), jobs in
 * `batches`, the key beside each request (`{"key", "request"}`, returned on its result line), results downloaded from
 * the job's result file.
 */
export function createGeminiBatchService(options: {
  client: GoogleGenAI;
  connection: GeminiConnection;
  workspace: { directory: string; id: string };
  settings: GeminiSettings;
  retry: { policy: RetryPolicy; environment: RetryEnvironment };
  now: () => number;
  logger: Logger;
}): BatchService {
  const { client, workspace, settings, retry, logger } = options;
  const uploader = createRequestFileUploader({ client, workspaceDirectory: workspace.directory, configuredMimeType: settings.jsonlMimeType, retry, now: options.now, logger });
  return {
    storageLabel: 'the Files API',
    formatRequestLine: formatGeminiRequestLine,
    async uploadRequestFile({ path, record }) {
      const upload = await uploader.upload({ path, displayName: record.displayName });
      if (upload.status === 'uploaded') return { status: 'uploaded', inputName: upload.fileName };
      return { status: 'refused', reason: upload.reason, fix: `Set gemini.jsonlMimeType in chargen.config.json to a MIME type the Files API takes for JSONL, then run chargen run --from ${record.stage}.` };
    },
    async deleteRequestFile({ inputName }) {
      await callWithRetry({ operation: `files.delete ${inputName}`, call: () => client.files.delete({ name: inputName }), ...retry });
    },
    async createJob(record) {
      const job = await client.batches.create({ model: record.model, src: record.inputFileName, config: { displayName: record.displayName } });
      if (!job.name) throw new Error('batches.create answered without a job name');
      return job.name;
    },
    ...createSdkJobCalls({ client, retry }),
    async downloadResults({ resultLocation, destination, slot }) {
      await downloadResultFileWithin({ connection: options.connection, settings, retry, logger, fileName: resultLocation, destination, slot });
    },
  };
}

const defaultBaseUrl = 'https://generativelanguage.googleapis.com';

/**
 * Downloads a finished job's result file into the place `slot` holds (each retry resumes a cut download with a
 * Range, from its `.part`).
 */
async function downloadResultFileWithin(options: {
  connection: GeminiConnection;
  settings: GeminiSettings;
  retry: { policy: RetryPolicy; environment: RetryEnvironment };
  logger: Logger;
  fileName: string;
  destination: string;
  slot: ResultFileSlot;
}): Promise<void> {
  const { fileName, slot, destination } = options;
  const { baseUrl = defaultBaseUrl, apiKey } = options.connection;
  const idleTimeoutMilliseconds = options.settings.downloadIdleTimeoutMilliseconds;
  const room = { reserve: slot.reserveRoom, end: slot.endDownload };
  // No room is no API failure: it leaves the retries as it is, to stop the run with its own message.
  let diskFull: DiskFullError | undefined;
  const call = async () => {
    try {
      const result = await downloadResultFile({ baseUrl, apiKey, fileName, destination, idleTimeoutMilliseconds, room });
      if (result.resumedFrom > 0) options.logger.info(`download of ${fileName} resumed at byte ${result.resumedFrom} of ${result.bytes}`);
    } catch (error) {
      if (error instanceof DiskFullError) diskFull = error;
      throw error;
    }
  };
  try {
    await callWithRetry({ operation: `download ${fileName}`, ...options.retry, call });
  } catch (error) {
    throw diskFull ?? error;
  }
}
