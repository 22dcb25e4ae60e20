import { toGeminiCallError } from './call-with-retry.ts';
import { saveJobRecord, type JobRecord } from './job-record.ts';
import { pollBatchJob, type PolledJob } from './poll-batch-job.ts';
import { prepareChunk } from './prepare-chunk.ts';
import type { BatchDependencies, RunState } from './batch-run-state.ts';

/**
 * Stragglers: a job still PENDING at its deadline is cancelled, the cancel is confirmed (the job reaches a final
 * state) before any of its lines is sent again, what it answered after all is kept, and only the rest go into a new
 * job. Every step is written to the job records before it is taken, so a rerun after a crash at any point finishes
 * the replacement: it never waits again, loses a line, or makes a second replacement.
 */

/**
 * Writes when the job was submitted and, when deadlines are on, the moment a still-PENDING job becomes a straggler;
 * records from before deadlines existed get theirs from now. Returns whether the record changed (to be saved).
 */
export function stampPendingDeadline(options: { record: JobRecord; replacementsBefore: number; deadlineMilliseconds: number; maxRounds: number; now: number }): boolean {
  const { record } = options;
  if (record.submittedAt !== undefined) return false;
  record.submittedAt = new Date(options.now).toISOString();
  // A replacement sends lines again, as a round does: a straggler and its replacements are at most maxRounds jobs,
  // and the last is waited for (the API expires it at 48 h). With maxRounds 1 nothing is replaced.
  if (options.deadlineMilliseconds > 0 && options.replacementsBefore + 1 < options.maxRounds) {
    record.pendingDeadlineAt = new Date(options.now + options.deadlineMilliseconds).toISOString();
  }
  return true;
}

/** The deadline as epoch milliseconds, for the poll; none once a cancel was asked (the poll then waits it out). */
export function readPendingDeadline(record: JobRecord): number | undefined {
  return record.pendingDeadlineAt === undefined ? undefined : Date.parse(record.pendingDeadlineAt);
}

/**
 * Cancels a straggler and follows it to a final state (or, detached, looks once). The request is written first; on
 * a rerun (the record says a cancel was asked) a job already final is not cancelled again.
 */
export async function cancelStraggler(dependencies: BatchDependencies, record: JobRecord, state: RunState): Promise<PolledJob> {
  const { service, settings, retry, logger, workspace, environment } = dependencies;
  const jobName = record.jobName as string;
  const once = state.options.detach === true;
  const poll = (pollOnce: boolean) => pollBatchJob({ service, stage: state.stage, jobName, once: pollOnce, settings, retry, logger, now: environment.now });
  if (record.cancelRequestedAt === undefined) {
    record.cancelRequestedAt = new Date(environment.now()).toISOString();
    await saveJobRecord(workspace.directory, record);
    logger.warn(`${state.stage}: ${jobName} (${record.displayName}) still PENDING at its deadline ${record.pendingDeadlineAt ?? ''}; cancelling it, and its ${record.keys.length} lines go into a new job once the cancel is confirmed`);
  } else {
    const seen = await poll(true);
    if (seen.final) return seen;
  }
  try {
    await service.cancelJob(jobName);
  } catch (caught) {
    // A job that ended meanwhile may refuse the cancel; its final state, polled next, is what counts.
    const error = toGeminiCallError(`batches.cancel ${jobName}`, caught);
    if (error.status !== 400) throw error;
    logger.info(`${state.stage}: ${jobName}: cancel refused (${error.message}); following the job to its end`);
  }
  return poll(once);
}

/**
 * After a cancelled straggler has reached its final state and its answers (if any) are collected: its unanswered lines
 * in a new job, whose record names the straggler from its first write. A rerun that finds that record adopts it
 * (it runs as resumed work) rather than preparing another. Returns the replacement to run now, if this call made it.
 */
export async function prepareReplacement(dependencies: BatchDependencies, record: JobRecord, state: RunState): Promise<JobRecord | undefined> {
  const { logger, workspace } = dependencies;
  const existing = state.jobs.findReplacement(record.displayName);
  const unanswered = record.keys.filter((key) => state.wanted.has(key) && !state.report.outcomes.has(key) && !state.missingFileKeys.has(key));
  const kept = record.keys.length - unanswered.length;
  if (existing) {
    if (record.replacedBy !== existing) {
      record.replacedBy = existing;
      await saveJobRecord(workspace.directory, record);
    }
    return undefined;
  }
  if (unanswered.length === 0) {
    logger.info(`${state.stage}: ${record.jobName ?? record.displayName} ended ${record.finalState ?? ''} with every line answered; no replacement needed`);
    return undefined;
  }
  const replacement = await prepareChunk(dependencies, { lines: unanswered.flatMap((key) => state.wanted.get(key) ?? []), state, replaces: record.displayName });
  record.replacedBy = replacement.displayName;
  await saveJobRecord(workspace.directory, record);
  state.stragglersReplaced += 1;
  logger.warn(
    `${state.stage}: ${record.jobName ?? record.displayName} cancelled (${record.finalState ?? ''})${kept > 0 ? `, ${kept} of its lines answered after all` : ''}; ` +
      `${unanswered.length} lines go into ${replacement.displayName}`,
  );
  return replacement;
}
