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
 * Where a job's results go: `{outputUriPrefix}/prediction-model-<start time>` (the layout Google's batch prediction
 * pages show; the timestamp's exact format is unconfirmed: RFC 3339 with microseconds here).
 */
export function outputDirectoryOf(job: BatchJob, startMilliseconds: number): string {
  const prefix = storageSourceOf(job).outputUriPrefix.replace(/\/+$/, '');
  return `${prefix}/prediction-model-${formatTimestamp(startMilliseconds, 'microseconds')}`;
}

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
  if (state === 'JOB_STATE_FAILED') return { code: 13, message: job.processingError ?? 'The batch prediction job failed.' };
  if (state === 'JOB_STATE_CANCELLED') return { code: 1, message: 'CANCELED' };
  if (state === 'JOB_STATE_EXPIRED') return { code: 4, message: 'The batch prediction job expired: it did not finish in 24 hours.' };
  return undefined;
}

/**
 * A BatchPredictionJob resource as the v1beta1 REST API answers it: the input and output configs echoed, the state,
 * the times (startTime once it has run, endTime once final), `completionStats` (int64 strings, zeros left out) and
 * `outputInfo.gcsOutputDirectory` once it has succeeded.
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
  return {
    name: predictionJobName(job),
    ...(job.displayName !== undefined ? { displayName: job.displayName } : {}),
    model: `publishers/google/models/${job.model}`,
    inputConfig: { instancesFormat: 'jsonl', gcsSource: { uris: source.uris } },
    outputConfig: { predictionsFormat: 'jsonl', gcsDestination: { outputUriPrefix: source.outputUriPrefix } },
    state,
    ...(error ? { error } : {}),
    ...(state === 'JOB_STATE_SUCCEEDED' ? { outputInfo: { gcsOutputDirectory: outputDirectoryOf(job, startMilliseconds) } } : {}),
    createTime: formatTimestamp(job.createTime, 'microseconds'),
    ...(started ? { startTime: formatTimestamp(startMilliseconds, 'microseconds') } : {}),
    ...(done ? { endTime: formatTimestamp(endMilliseconds, 'microseconds') } : {}),
    updateTime: formatTimestamp(done ? endMilliseconds : now, 'microseconds'),
    ...(started ? { completionStats: stats } : {}),
  };
}
