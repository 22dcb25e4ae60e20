import { rm } from 'node:fs/promises';
import { DiskFullError, InterruptedError } from '../errors.ts';
import { toGeminiCallError } from './call-with-retry.ts';
import { saveJobRecord, type JobRecord } from './job-record.ts';
import { pollBatchJob } from './poll-batch-job.ts';
import type { ChunkSubmission } from './submit-chunk.ts';
import type { BatchDependencies, RunState } from './batch-run-state.ts';
import { collectResultFile, resultFilePath } from './collect-result-file.ts';
import { prepareChunk } from './prepare-chunk.ts';
import { cancelStraggler, prepareReplacement, readPendingDeadline, stampPendingDeadline } from './replace-straggler.ts';

/** A job's life: submitted (or adopted), polled to its end, its results collected, its record marked finished. */
async function runChunk(dependencies: BatchDependencies, record: JobRecord, state: RunState, resumed: boolean): Promise<void> {
  const { environment, logger, workspace, service, settings, retry } = dependencies;
  if (environment.signal?.aborted) throw new InterruptedError();
  if (resumed) await dependencies.submitter.countUploadedRequestFile(record);
  if (!record.jobName) {
    const submission = await dependencies.submitter.submit(record, { lookFirst: resumed });
    if (submission.status === 'refused') return refuseLines(dependencies, record, submission, state);
    if (submission.status === 'adopted') {
      state.report.jobsAdopted += 1;
      logger.info(`${state.stage}: adopted ${submission.jobName} (${record.displayName}), created by an earlier attempt`);
    } else {
      state.report.jobsCreated += 1;
      // A cancelled straggler never ran its lines: sent again in its replacement, they count once in this call.
      const resent = record.replaces !== undefined && state.createdJobs.has(record.replaces);
      if (!resent) state.report.sentLines += record.keys.length;
      state.createdJobs.add(record.displayName);
    }
    record.jobName = submission.jobName;
    record.status = 'submitted';
    await saveJobRecord(workspace.directory, record);
    logger.info(`${state.stage}: ${record.jobName} submitted with ${record.keys.length} lines`);
  }
  const deadline = { record, replacementsBefore: state.jobs.countReplacements(record), deadlineMilliseconds: settings.pendingDeadlineMilliseconds, maxRounds: settings.maxRounds, now: environment.now() };
  if (stampPendingDeadline(deadline)) await saveJobRecord(workspace.directory, record);
  const pendingDeadlineAt = readPendingDeadline(record);
  // A straggler whose cancel was asked before a crash goes straight on to its replacement.
  const polled =
    record.cancelRequestedAt === undefined
      ? await pollBatchJob({ service, stage: state.stage, jobName: record.jobName, once: state.options.detach === true, settings, retry, logger, now: environment.now, ...(pendingDeadlineAt !== undefined ? { pendingDeadlineAt } : {}) })
      : undefined;
  const result = polled === undefined || polled.overdue ? await cancelStraggler(dependencies, record, state) : polled;
  if (!result.final) {
    state.report.pendingJobs += 1;
    for (const key of record.keys) state.heldKeys.add(key);
    logger.info(`${state.stage}: ${record.jobName} is ${result.state}; left running`);
    return;
  }
  if (result.resultLocation) {
    await fetchAndCollect(dependencies, { record, resultLocation: result.resultLocation, state });
  } else if (record.cancelRequestedAt === undefined) {
    logger.warn(`${state.stage}: ${record.jobName} ended ${result.state}; its ${record.keys.length} lines go into the next round`);
    for (const key of record.keys) state.lastReasons.set(key, `job ${record.jobName} ended ${result.state}`);
  }
  record.status = 'finished';
  record.finalState = result.state;
  await saveJobRecord(workspace.directory, record);
  await dependencies.submitter.releaseRequestFile(record);
  if (record.cancelRequestedAt === undefined) return;
  const replacement = await prepareReplacement(dependencies, record, state);
  if (replacement) await runBatchJob(dependencies, replacement, state, false);
}

/**
 * A result file takes one of the run's few places on disk from before its download until it is read and deleted
 * (image results are gigabytes). Deleted once read: every line is settled and cached by then, and a rerun that finds
 * the job unfinished downloads it again.
 */
async function fetchAndCollect(dependencies: BatchDependencies, options: { record: JobRecord; resultLocation: string; state: RunState }): Promise<void> {
  const slot = await dependencies.resultFileGate.acquire();
  try {
    const path = resultFilePath(dependencies, options.record);
    await dependencies.service.downloadResults({ record: options.record, resultLocation: options.resultLocation, destination: path, slot });
    try {
      await collectResultFile(dependencies, options.record, path, options.state);
    } finally {
      await rm(path, { force: true });
    }
  } finally {
    slot.release();
  }
}

/**
 * Lines the API refused before a job existed fail for good in this run, with the API's reason; they are not cached,
 * so a later run (after a fix) asks again. The chunk's other lines go again at once, in a job of their own.
 */
async function refuseLines(dependencies: BatchDependencies, record: JobRecord, submission: Extract<ChunkSubmission, { status: 'refused' }>, state: RunState): Promise<void> {
  const { logger } = dependencies;
  for (const [key, reason] of submission.reasons) {
    state.report.outcomes.set(key, { key, status: 'failed', reason, retryable: false, fix: submission.fix });
    state.lastReasons.delete(key);
  }
  logger.progress?.({ stage: state.stage, withoutRequest: submission.reasons.size });
  const [firstReason = ''] = submission.reasons.values();
  if (!state.refusalsLogged.has(firstReason)) logger.warn(`${state.stage}: ${submission.reasons.size} of the ${record.keys.length} lines of ${record.displayName} refused, no job created: ${firstReason}`);
  state.refusalsLogged.add(firstReason);
  record.status = 'finished';
  record.finalState = 'REFUSED';
  await saveJobRecord(dependencies.workspace.directory, record);
  await dependencies.submitter.releaseRequestFile(record);
  const rest = record.keys.filter((key) => !submission.reasons.has(key)).flatMap((key) => state.wanted.get(key) ?? []);
  if (rest.length === 0) return;
  logger.info(`${state.stage}: the other ${rest.length} lines of ${record.displayName} go again in a new job`);
  await runBatchJob(dependencies, await prepareChunk(dependencies, { lines: rest, state }), state, false);
}

/**
 * Submits (or resumes) one chunk's job, waits for it, and accounts for every one of its keys. One chunk's trouble
 * must not stop the others: its keys get the reason, and are held if their job exists.
 */
export async function runBatchJob(dependencies: BatchDependencies, record: JobRecord, state: RunState, resumed: boolean): Promise<void> {
  try {
    await runChunk(dependencies, record, state, resumed);
  } catch (caught) {
    const error = toGeminiCallError(`${state.stage} ${record.jobName ?? record.displayName}`, caught);
    // No room on disk stops the run (exit 1): no other job's file would fit either. The job stays for the next run.
    if (caught instanceof DiskFullError) throw caught;
    if (caught instanceof InterruptedError) {
      // Stopped by the user: the job record stays as it is and the next run resumes from it.
      for (const key of record.keys) state.heldKeys.add(key);
      return;
    }
    dependencies.logger.error(error.message);
    for (const key of record.keys) {
      if (state.report.outcomes.has(key)) continue;
      if (record.jobName) {
        state.heldKeys.add(key);
        state.lastReasons.set(key, `job ${record.jobName} could not be followed (${error.message}); run again to pick it up`);
      } else {
        state.lastReasons.set(key, error.message);
      }
    }
  }
}
