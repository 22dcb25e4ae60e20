import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { GeminiCallError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { computeRetryDelay, toGeminiCallError, type RetryEnvironment, type RetryPolicy } from './call-with-retry.ts';
import type { BatchService } from './batch-service.ts';
import { refusedRequestFix } from './check-request-line.ts';
import type { GeminiSettings } from '../../schemas/gemini-settings.ts';
import { saveJobRecord, type JobRecord } from './job-record.ts';
import { readApiErrorMessage } from './read-api-error.ts';
import type { StorageBudget } from './storage-budget.ts';

/**
 * How a chunk's submission ended: a job to follow, or lines the API refused before any job existed, each with its
 * reason (the rest of the chunk, if any, can go again in a job of its own).
 */
export type ChunkSubmission =
  | { status: 'created' | 'adopted'; jobName: string }
  | { status: 'refused'; reasons: Map<string, string>; fix: string };

export interface ChunkSubmitter {
  /** `lookFirst`: a record from an earlier run, whose job may exist already. */
  submit(record: JobRecord, options: { lookFirst: boolean }): Promise<ChunkSubmission>;
  /**
   * The job has ended (or was never created): its request file is deleted from the service's storage, which no job
   * needs now, and its bytes go back to the storage budget. A file already gone is fine; one that will not go is said
   * (a Files API file expires 48 h after upload; `chargen clean` deletes what is left in a bucket).
   */
  releaseRequestFile(record: JobRecord): Promise<void>;
  /**
   * A record from an earlier run whose request file is on the Files API already: its bytes count in the storage
   * budget from now until the job ends, at once (they are held whether or not they fit), so new request files wait.
   */
  countUploadedRequestFile(record: JobRecord): Promise<void>;
}

/**
 * The lines a create-time 400 names, by key: the API parses the whole file and answers one "Error on line N: …" per
 * bad line, joined by newlines (inspect_ai #3257, #5100). Lines are numbered from 1 in the request file, which holds
 * the record's keys in order.
 */
export function findRefusedLines(options: { message: string; keys: readonly string[] }): Map<string, string> {
  const reasons = new Map<string, string>();
  for (const match of options.message.matchAll(/^Error on line (\d+): .*$/gm)) {
    const key = options.keys[Number(match[1]) - 1];
    if (key !== undefined && !reasons.has(key)) reasons.set(key, `batches.create refused this request line: "${match[0]}"`);
  }
  return reasons;
}

function refuseAll(record: JobRecord, reason: string, fix: string): ChunkSubmission {
  return { status: 'refused', reasons: new Map(record.keys.map((key) => [key, reason])), fix };
}

/** A 400 from `batches.create` is the API's verdict on the file, not a hiccup: never sent again as it is. */
function readCreateRefusal(record: JobRecord, error: GeminiCallError): ChunkSubmission {
  const message = readApiErrorMessage(error) ?? error.message;
  const reasons = findRefusedLines({ message, keys: record.keys });
  if (reasons.size === 0) return refuseAll(record, `batches.create refused the request file: ${message}`, refusedRequestFix);
  return { status: 'refused', reasons, fix: refusedRequestFix };
}

/**
 * Uploads a chunk's request file and creates its job, or finds the job an earlier attempt created: `create` is never
 * simply retried. An expired or deleted input file is uploaded again.
 */
export function createChunkSubmitter(options: {
  service: BatchService;
  workspace: { directory: string; id: string };
  settings: GeminiSettings;
  retry: { policy: RetryPolicy; environment: RetryEnvironment };
  logger: Logger;
  /** The run's Files API budget: request files are uploaded within it. Without one, they are not counted. */
  storage?: StorageBudget;
}): ChunkSubmitter {
  const { service, workspace, settings, retry, logger } = options;
  // The bytes each record's request file holds in the budget, by display name, until its job ends.
  const reserved = new Map<string, () => void>();

  async function reserveRequestFile(record: JobRecord, path: string): Promise<void> {
    if (!options.storage || reserved.has(record.displayName)) return;
    const { size } = await stat(path);
    reserved.set(record.displayName, await options.storage.reserveRequestFile(size));
  }

  async function countUploadedRequestFile(record: JobRecord): Promise<void> {
    if (!options.storage || record.inputFileName === undefined || reserved.has(record.displayName)) return;
    // The local copy is the uploaded file's bytes; without it (a workspace cleaned by hand) nothing can be counted.
    const size = await stat(join(workspace.directory, record.requestFile)).then((found) => found.size, () => 0);
    reserved.set(record.displayName, options.storage.holdRequestFile(size));
  }

  function giveBack(record: JobRecord): void {
    reserved.get(record.displayName)?.();
    reserved.delete(record.displayName);
  }

  async function findJobByDisplayName(displayName: string): Promise<string | undefined> {
    const jobs = await service.listJobs({ workspaceId: workspace.id });
    return jobs.find((job) => job.displayName === displayName)?.name;
  }

  async function submit(record: JobRecord, submitOptions: { lookFirst: boolean }): Promise<ChunkSubmission> {
    try {
      return await submitOnce(record, submitOptions);
    } catch (error) {
      // No job to wait for: the bytes go back (an uploaded file stays named in the record, for the next run).
      giveBack(record);
      throw error;
    }
  }

  async function submitOnce(record: JobRecord, submitOptions: { lookFirst: boolean }): Promise<ChunkSubmission> {
    if (submitOptions.lookFirst) {
      const adopted = await findJobByDisplayName(record.displayName);
      if (adopted) return { status: 'adopted', jobName: adopted };
    }
    for (let attempt = 0; ; attempt += 1) {
      if (!record.inputFileName) {
        const path = join(workspace.directory, record.requestFile);
        await reserveRequestFile(record, path);
        const upload = await service.uploadRequestFile({ path, record });
        if (upload.status === 'refused') {
          giveBack(record);
          return refuseAll(record, upload.reason, upload.fix);
        }
        record.inputFileName = upload.inputName;
        await saveJobRecord(workspace.directory, record);
      }
      try {
        return { status: 'created', jobName: await service.createJob({ ...record, inputFileName: record.inputFileName }) };
      } catch (caught) {
        const error = toGeminiCallError('batches.create', caught);
        // Parsed and refused: nothing was created (inspect_ai #3257), so there is nothing to look up either.
        if (error.status === 400) return readCreateRefusal(record, error);
        const adopted = await findJobByDisplayName(record.displayName);
        if (adopted) return { status: 'adopted', jobName: adopted };
        // A 403/404 may say the uploaded request file is gone (expired or deleted): it is uploaded again, as many times
        // as a retryable failure is tried; a lasting one (a missing role, a model not served there) then stops here.
        const inputGone = error.status === 403 || error.status === 404;
        if ((!inputGone && !error.isRetryable) || attempt + 1 >= settings.retryAttempts) throw error;
        if (inputGone) delete record.inputFileName;
        const serverDelay = error.retryDelayMilliseconds !== undefined ? { serverDelayMilliseconds: error.retryDelayMilliseconds } : {};
        await retry.environment.sleep(computeRetryDelay({ attempt, policy: retry.policy, random: retry.environment.random, ...serverDelay }));
      }
    }
  }

  async function releaseRequestFile(record: JobRecord): Promise<void> {
    const name = record.inputFileName;
    try {
      if (name === undefined) return;
      await service.deleteRequestFile({ inputName: name, record });
    } catch (caught) {
      const error = toGeminiCallError(`delete ${name}`, caught);
      if (error.status !== 403 && error.status !== 404) logger.warn(`could not delete request file ${name} of ${record.displayName} from ${service.storageLabel}: ${error.message}`);
    } finally {
      giveBack(record);
    }
  }

  return { submit, releaseRequestFile, countUploadedRequestFile };
}
