import type { Logger } from '../logger.ts';
import type { RetryEnvironment, RetryPolicy } from './call-with-retry.ts';
import type { BatchService } from './batch-service.ts';
import type { GeminiSettings } from '../../schemas/gemini-settings.ts';

/** Not started yet: PENDING, or Vertex AI's QUEUED (it documents jobs queued for up to 72 h). */
function isWaitingToStart(state: string): boolean {
  return state === 'JOB_STATE_PENDING' || state === 'JOB_STATE_QUEUED';
}

// PARTIALLY_SUCCEEDED is Vertex AI's: some lines failed, the rest are exported like a success's.
const terminalFailures = new Set(['JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_EXPIRED', 'JOB_STATE_PARTIALLY_SUCCEEDED']);

export interface PolledJob {
  state: string;
  /** Where the results are (a result file, a folder), once the job SUCCEEDED with them (or ended otherwise and shows them). */
  resultLocation?: string;
  /** Whether the job is in a final state; false when asked to look `once`, or when it is overdue. */
  final: boolean;
  /** Still PENDING at its pending deadline: a straggler (see replace-straggler.ts). */
  overdue?: boolean;
}

/**
 * How long to wait before the next poll: the backoff's jittered delay, but never past a pending job's deadline, so a
 * straggler is seen as soon as it is one.
 */
function computePollWait(options: { delay: number; random: number; state: string; now: number; pendingDeadlineAt?: number }): number {
  const wait = options.delay / 2 + options.random * (options.delay / 2);
  if (options.pendingDeadlineAt === undefined || !isWaitingToStart(options.state)) return wait;
  return Math.max(1, Math.min(wait, options.pendingDeadlineAt - options.now));
}

/** Polls a job with exponential backoff and jitter until it is final (or once), saying each change of state. */
export async function pollBatchJob(options: {
  service: BatchService;
  stage: string;
  jobName: string;
  once: boolean;
  settings: GeminiSettings;
  retry: { policy: RetryPolicy; environment: RetryEnvironment };
  logger: Logger;
  /** Epoch milliseconds: a job still PENDING then is returned as overdue instead of waited for. */
  pendingDeadlineAt?: number;
  now: () => number;
}): Promise<PolledJob> {
  const { jobName, settings, logger } = options;
  const { environment } = options.retry;
  let delay = settings.pollInitialMilliseconds;
  let lastState = '';
  for (;;) {
    const { state, resultLocation } = await options.service.getJob(jobName);
    if (state !== lastState) {
      logger.info(`${jobName}: ${state.replace(/^JOB_STATE_/, '').toLowerCase()}`);
      logger.progress?.({ stage: options.stage, job: { name: jobName, state } });
    }
    lastState = state;
    // SUCCEEDED without a result file is not ready yet (seen on the real API).
    if (state === 'JOB_STATE_SUCCEEDED' && resultLocation) return { state, resultLocation, final: true };
    // A job that ended otherwise keeps what it answered if the API shows a result file (a cancel that landed
    // mid-run may; no recording shows it either way): those answers are paid for, so they are read.
    if (terminalFailures.has(state)) return { state, final: true, ...(resultLocation ? { resultLocation } : {}) };
    const { pendingDeadlineAt, now } = options;
    // Only a job never seen RUNNING is a straggler: one that started is left to finish.
    if (isWaitingToStart(state) && pendingDeadlineAt !== undefined && now() >= pendingDeadlineAt) return { state, final: false, overdue: true };
    if (options.once) return { state, final: false };
    await environment.sleep(computePollWait({ delay, random: environment.random(), state, now: now(), ...(pendingDeadlineAt !== undefined ? { pendingDeadlineAt } : {}) }));
    delay = Math.min(settings.pollMaxMilliseconds, delay * 2);
  }
}
