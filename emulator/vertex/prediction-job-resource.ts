import { formatTimestamp } from '../clock.ts';
import { finishTimeOf, stateOf, terminalStates, type BatchJob, type StorageSource } from '../batch-store.ts';
import type { EmulatorContext } from '../emulator-context.ts';

/** A Vertex AI job's source: every job in `context.predictionJobs` has one. */
export function storageSourceOf(job: BatchJob): StorageSource {
  if (job.source.kind !== 'storage') throw new Error(`job ${job.id} is not a Vertex AI batch prediction job`);
  return job.source;
}

export function predictionJobName(job: BatchJob): string {
  const source = storageSourceOf(job);
  return `projects/${source.project}/locations/${source.location}/batchPredictionJobs/${job.id}`;
}

/**
 * Where a job's results go: `{outputUriPrefix}/prediction-model-<create time, microseconds>`, as captured
 * (`…/prediction-model-2026-02-28T08:22:20.427871Z`; the captured stamp is the create call's, 2 s before createTime).
 */
export function outputDirectoryOf(job: BatchJob): string {
  const prefix = storageSourceOf(job).outputUriPrefix.replace(/\/+$/, '');
  return `${prefix}/prediction-model-${formatTimestamp(job.createTime, 'microseconds')}`;
}

/** The job-level error of a job whose input could not be read: the importer's code and words, as captured. */
export const importFailurePrefix = "Failed to import data. Please check 'Prepare input' section of the batch predictions documentation.";

/** int64 counters as strings, zeros left out, as proto3 JSON writes them. */
function counters(entries: Record<string, number>): Record<string, string> {
  return Object.fromEntries(Object.entries(entries).filter(([, count]) => count > 0).map(([name, count]) => [name, String(count)]));
}

/**
 * The JOB_STATE_* a job reads: the Gemini job's clock-driven state under Vertex names, and CANCELLING while an asked
 * cancel has not landed yet (the Gemini API shows no such state; Vertex does).
 */
export function predictionJobState(job: BatchJob, options: { now: number; context: EmulatorContext }): string {
  const timings = options.context.timings();
  const state = stateOf(job, { now: options.now, timings });
  if (job.cancelTime !== undefined && options.now < job.cancelTime && !terminalStates.has(state)) return 'JOB_STATE_CANCELLING';
  return state.replace('BATCH_STATE_', 'JOB_STATE_');
}

function errorOf(state: string, job: BatchJob): { code: number; message: string } | undefined {
  if (state === 'JOB_STATE_FAILED') {
    const message = job.processingError ?? 'System error. Please try this operation again.';
    return { code: message.startsWith(importFailurePrefix) ? 3 : 13, message };
  }
  if (state === 'JOB_STATE_CANCELLED') return { code: 1, message: 'CANCELED' };
  if (state === 'JOB_STATE_EXPIRED') return { code: 4, message: 'The batch prediction job expired: it did not finish in 24 hours.' };
  return undefined;
}

/**
 * A BatchPredictionJob resource as the REST API answers it: the input and output configs echoed, the state, the
 * times (startTime once it has run, endTime once final), and from the start of its run `outputInfo.gcsOutputDirectory`
 * (captured on a FAILED job too) and `completionStats` (int64 strings, zeros left out; absent on pending and cancelled
 * jobs, as captured).
 */
export function toPredictionJobResource(job: BatchJob, context: EmulatorContext): Record<string, unknown> {
  const source = storageSourceOf(job);
  const now = context.clock.now();
  const timings = context.timings();
  const state = predictionJobState(job, { now, context });
  const done = terminalStates.has(stateOf(job, { now, timings }));
  const startMilliseconds = job.createTime + timings.pendingMilliseconds;
  const started = job.processing !== undefined;
  const endMilliseconds = job.cancelTime ?? finishTimeOf(job, timings);
  const error = errorOf(state, job);
  const stats = counters({ successfulCount: job.successfulCount, failedCount: job.failedCount });
  // Members in the captured order (a SUCCEEDED job pasted whole, 2026-02); where `error` goes is a guess.
  return {
    name: predictionJobName(job),
    ...(job.displayName !== undefined ? { displayName: job.displayName } : {}),
    model: `publishers/google/models/${job.model}`,
    inputConfig: { instancesFormat: 'jsonl', gcsSource: { uris: source.uris } },
    outputConfig: { predictionsFormat: 'jsonl', gcsDestination: { outputUriPrefix: source.outputUriPrefix } },
    ...(started ? { outputInfo: { gcsOutputDirectory: outputDirectoryOf(job) } } : {}),
    state,
    ...(error ? { error } : {}),
    ...(started ? { completionStats: stats } : {}),
    createTime: formatTimestamp(job.createTime, 'microseconds'),
    ...(started ? { startTime: formatTimestamp(startMilliseconds, 'microseconds') } : {}),
    ...(done ? { endTime: formatTimestamp(endMilliseconds, 'microseconds') } : {}),
    updateTime: formatTimestamp(done ? endMilliseconds : now, 'microseconds'),
    encryptionSpec: {},
    modelVersionId: '1',
  };
}
