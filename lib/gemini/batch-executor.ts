import { formatCount } from '../format-count.ts';
import { toRetryPolicy } from './apply-gemini-settings.ts';
import type { GeminiExecutor } from './gemini-executor.ts';
import { createJobRecordIndexes } from './job-record-index.ts';
import { readResultLines } from './read-result-lines.ts';
import { createResultFileGate } from './result-file-gate.ts';
import { openResultCache } from './result-cache.ts';
import { createChunkSubmitter } from './submit-chunk.ts';
import { createGeminiBatchService } from './gemini-batch-service.ts';
import { createRunState, failUnanswered, settleWithoutSending, type BatchDependencies, type BatchExecutorOptions, type ExecutorEnvironment } from './batch-run-state.ts';
import { planRound } from './prepare-chunk.ts';
import { runBatchJob } from './run-batch-job.ts';
import { createJobLimiter } from './job-limiter.ts';
import { createSharedResultCaches, findAnsweredKeys } from './shared-result-caches.ts';
import type { JobRecord } from './job-record.ts';
import type { RunState } from './batch-run-state.ts';

export type { BatchExecutorOptions, ExecutorEnvironment };


/**
 * The Batch API behind the executor port. One `execute` settles what needs no request (cached answers, lines that
 * cannot be sent), then goes round by round: chunk planning (prepare-chunk.ts), each job's life (run-batch-job.ts,
 * which collects its result file through collect-result-file.ts), and at the end a reason for every key unanswered.
 */
export function createBatchExecutor(options: BatchExecutorOptions): GeminiExecutor {
  const { client, settings, environment, logger, workspace } = options;
  const retry = { policy: toRetryPolicy(settings), environment };
  const service = options.service ?? createGeminiBatchService({ client, connection: options.connection, workspace, settings, retry, now: environment.now, logger });
  const dependencies: BatchDependencies = {
    ...options,
    readResults: options.readResults ?? readResultLines,
    resultFileGate: options.resultFileGate ?? createResultFileGate({ maxFiles: settings.maxResultFilesOnDisk }),
    retry,
    service,
    submitter: createChunkSubmitter({ service, workspace, settings, retry, logger, ...(options.storage ? { storage: options.storage } : {}) }),
  };
  const jobLimiter = options.jobLimiter ?? createJobLimiter({ limit: settings.maxJobsInFlight });
  const caches = createSharedResultCaches({
    open: (stage) => openResultCache({ stateDirectory: workspace.directory, stage, now: environment.now, onSkippedLine: (file, line, reason) => logger.warn(`${file} line ${line}: ${reason}`) }),
  });
  // A job is followed once however many calls running at once want its keys (a record of an earlier run may span
  // two chunks of this one): the others wait for it and take its answers from the shared cache.
  const following = new Map<string, Promise<JobRecord>>();
  const jobIndexes = createJobRecordIndexes({ workspaceDirectory: workspace.directory });
  const follow = (item: { record: JobRecord; resumed: boolean }, state: RunState): Promise<void> => {
    const existing = following.get(item.record.displayName);
    if (existing) return existing.then((followed) => takeFollowedAnswers(state, followed));
    const followed = jobLimiter.run(async () => {
      await runBatchJob(dependencies, item.record, state, item.resumed);
      return item.record;
    });
    following.set(item.record.displayName, followed);
    return followed.then(() => undefined).finally(() => following.delete(item.record.displayName));
  };
  return {
    findAnswered: (findOptions) => findAnsweredKeys(caches, findOptions),
    async execute(executeOptions) {
      const { cache, release } = await caches.acquire(executeOptions.stage);
      try {
        const jobs = await jobIndexes.forStage(executeOptions.stage);
        const state = createRunState({ executeOptions, cache, jobs });
        await settleWithoutSending(state, logger);
        const unfinished = jobs.listUnfinished().filter(
          (record) => record.status !== 'finished' && record.model === state.model && record.keys.some((key) => state.wanted.has(key) && !state.report.outcomes.has(key)),
        );
        for (let round = 1; round <= settings.maxRounds; round += 1) {
          const { work, todo } = await planRound(dependencies, { state, round, unfinished });
          if (work.length === 0) break;
          if (round > 1) logger.info(`${state.stage}: round ${round}: ${todo} lines again`);
          await Promise.all(work.map((item) => follow(item, state)));
        }
        failUnanswered(state, settings.maxRounds);
        if (state.stragglersReplaced > 0 || state.lateResultsDropped > 0) {
          logger.info(`${state.stage}: ${formatCount(state.stragglersReplaced, 'straggler')} replaced; ${formatCount(state.lateResultsDropped, 'late answer')} for keys already answered dropped`);
        }
        return state.report;
      } finally {
        await release();
      }
    },
  };
}

/**
 * The keys of a job another call followed: answered ones from the shared cache; the rest wait for the next run when
 * that job is still going (never sent again beside it), else go into this call's next round.
 */
function takeFollowedAnswers(state: RunState, followed: JobRecord): void {
  let held = false;
  for (const key of followed.keys) {
    if (!state.wanted.has(key) || state.report.outcomes.has(key)) continue;
    const cached = state.cache.get(key);
    if (cached) {
      state.report.outcomes.set(key, cached);
      continue;
    }
    if (followed.status !== 'finished') {
      state.heldKeys.add(key);
      state.lastReasons.set(key, `job ${followed.jobName ?? followed.displayName} is still running; run again to pick it up`);
      held = true;
    } else {
      state.lastReasons.set(key, `missing from the results of ${followed.jobName ?? followed.displayName}`);
    }
  }
  if (held && state.options.detach) state.report.pendingJobs += 1;
}
