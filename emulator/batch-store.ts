import type { JobOutcome } from './fault-config.ts';

export type BatchState =
  | 'BATCH_STATE_PENDING'
  | 'BATCH_STATE_RUNNING'
  | 'BATCH_STATE_SUCCEEDED'
  | 'BATCH_STATE_FAILED'
  | 'BATCH_STATE_CANCELLED'
  | 'BATCH_STATE_EXPIRED';

export const terminalStates: ReadonlySet<BatchState> = new Set([
  'BATCH_STATE_SUCCEEDED',
  'BATCH_STATE_FAILED',
  'BATCH_STATE_CANCELLED',
  'BATCH_STATE_EXPIRED',
]);

/** A Vertex AI batch prediction job's input and output, as its create call named them (Cloud Storage only). */
export interface StorageSource {
  kind: 'storage';
  project: string;
  location: string;
  /** `gs://bucket/path.jsonl` inputs, read in order. */
  uris: string[];
  outputUriPrefix: string;
}

export type BatchSource = { kind: 'file'; fileId: string } | { kind: 'inline'; requests: unknown[] } | StorageSource;

export interface BatchJob {
  id: string;
  model: string;
  displayName?: string;
  source: BatchSource;
  createTime: number;
  requestCount: number;
  /** Set by a fault rule: how this job ends instead of succeeding. */
  outcome?: JobOutcome;
  /** When a requested cancel takes effect (the request's time plus the cancel latency). */
  cancelTime?: number;
  /** Lines are answered from the moment the job is RUNNING; nothing is visible before it has SUCCEEDED. */
  processing?: Promise<void>;
  processed: boolean;
  processingError?: string;
  /** The written results, waiting to become `files/batch-<id>` when the job succeeds. */
  outputTemporaryPath?: string;
  /** True once the results are visible (the output file registered, or the inline responses shown). */
  published: boolean;
  publishing?: Promise<void>;
  successfulCount: number;
  failedCount: number;
  outputFileId?: string;
  inlinedResponses?: unknown[];
}

export interface BatchTimings {
  pendingMilliseconds: number;
  runningMilliseconds: number;
  jobExpiryMilliseconds: number;
  cancelMilliseconds: number;
}

/** When a job that is not cancelled reaches its final state (success or its fault outcome). */
export function finishTimeOf(job: BatchJob, timings: BatchTimings): number {
  if (job.outcome === 'STUCK_PENDING') return job.createTime + timings.jobExpiryMilliseconds;
  return job.createTime + timings.pendingMilliseconds + timings.runningMilliseconds;
}

/**
 * The state is derived from the clock rather than stored, so that tests move jobs along by moving the clock.
 * A job whose time is up but whose lines are still being written reads RUNNING until they are done.
 */
export function stateOf(job: BatchJob, options: { now: number; timings: BatchTimings }): BatchState {
  const { now, timings } = options;
  // A requested cancel takes effect after the cancel latency; until then the job reads as it did.
  if (job.cancelTime !== undefined && now >= job.cancelTime) return 'BATCH_STATE_CANCELLED';
  if (job.outcome === 'STUCK_PENDING') {
    return now < finishTimeOf(job, timings) ? 'BATCH_STATE_PENDING' : 'BATCH_STATE_EXPIRED';
  }
  if (now < job.createTime + timings.pendingMilliseconds) return 'BATCH_STATE_PENDING';
  if (now < finishTimeOf(job, timings)) return 'BATCH_STATE_RUNNING';
  if (job.outcome === 'FAILED') return 'BATCH_STATE_FAILED';
  if (job.outcome === 'CANCELLED') return 'BATCH_STATE_CANCELLED';
  if (job.outcome === 'EXPIRED') return 'BATCH_STATE_EXPIRED';
  if (job.processingError !== undefined) return 'BATCH_STATE_FAILED';
  return job.published ? 'BATCH_STATE_SUCCEEDED' : 'BATCH_STATE_RUNNING';
}

export interface BatchStore {
  add(job: BatchJob): void;
  find(id: string): BatchJob | undefined;
  /** Newest first, as the real list answers. */
  list(): BatchJob[];
  /** Every job, deleted ones included: a deleted job is forgotten, not stopped, so it still moves on. */
  all(): BatchJob[];
  remove(id: string): boolean;
  clear(): void;
  countActive(options: { now: number; timings: BatchTimings }): number;
}

export function createBatchStore(): BatchStore {
  const jobs = new Map<string, BatchJob>();
  const deleted = new Set<BatchJob>();
  return {
    add: (job) => {
      jobs.set(job.id, job);
    },
    find: (id) => jobs.get(id),
    list: () => [...jobs.values()].reverse(),
    all: () => [...jobs.values(), ...deleted],
    remove: (id) => {
      const job = jobs.get(id);
      if (!job) return false;
      jobs.delete(id);
      if (!job.published && job.cancelTime === undefined) deleted.add(job);
      return true;
    },
    clear: () => {
      jobs.clear();
      deleted.clear();
    },
    countActive: (options) => [...jobs.values(), ...deleted].filter((job) => !terminalStates.has(stateOf(job, options))).length,
  };
}

/** The clock has reached the job's RUNNING phase, so its lines may be answered. */
export function isRunningTime(job: BatchJob, options: { now: number; timings: BatchTimings }): boolean {
  return job.cancelTime === undefined && job.outcome === undefined && options.now >= job.createTime + options.timings.pendingMilliseconds;
}

/**
 * When a cancel asked for now takes effect, or undefined when it comes too late: the job reaches its own final state
 * first (cancel is best effort).
 */
export function computeCancelTime(job: BatchJob, options: { now: number; timings: BatchTimings }): number | undefined {
  const cancelTime = options.now + options.timings.cancelMilliseconds;
  return finishTimeOf(job, options.timings) < cancelTime ? undefined : cancelTime;
}

export function isClockDue(job: BatchJob, options: { now: number; timings: BatchTimings }): boolean {
  return job.cancelTime === undefined && options.now >= finishTimeOf(job, options.timings);
}

