import { mapWithConcurrency } from '../map-with-concurrency.ts';
import { formatCount } from '../format-count.ts';
import { toRetryPolicy } from './apply-gemini-settings.ts';
import type { GeminiExecutor } from './gemini-executor.ts';
import { loadJobRecords } from './job-record.ts';
import { readResultLines } from './read-result-lines.ts';
import { createResultFileGate } from './result-file-gate.ts';
import { openResultCache } from './result-cache.ts';
import { createChunkSubmitter } from './submit-chunk.ts';
import { createRunState, failUnanswered, settleWithoutSending, type BatchDependencies, type BatchExecutorOptions, type ExecutorEnvironment } from './batch-run-state.ts';
import { planRound } from './prepare-chunk.ts';
import { runBatchJob } from './run-batch-job.ts';

export type { BatchExecutorOptions, ExecutorEnvironment };


/**
 * The Batch API behind the executor port. One `execute` settles what needs no request (cached answers, lines that
 * cannot be sent), then goes round by round: chunk planning (prepare-chunk.ts), each job's life (run-batch-job.ts,
 * which collects its result file through collect-result-file.ts), and at the end a reason for every key unanswered.
 */
export function createBatchExecutor(options: BatchExecutorOptions): GeminiExecutor {
  const { client, settings, environment, logger, workspace } = options;
  const retry = { policy: toRetryPolicy(settings), environment };
  const dependencies: BatchDependencies = {
    ...options,
    readResults: options.readResults ?? readResultLines,
    resultFileGate: options.resultFileGate ?? createResultFileGate({ maxFiles: settings.maxResultFilesOnDisk }),
    retry,
    submitter: createChunkSubmitter({ client, workspace, settings, retry, now: environment.now, logger }),
  };
  return {
    async execute(executeOptions) {
      const cache = await openResultCache({
        stateDirectory: workspace.directory,
        stage: executeOptions.stage,
        now: environment.now,
        onSkippedLine: (file, line, reason) => logger.warn(`${file} line ${line}: ${reason}`),
      });
      try {
        const records = await loadJobRecords(workspace.directory, executeOptions.stage);
        const state = createRunState({ executeOptions, cache, records });
        await settleWithoutSending(state, logger);
        const unfinished = records.filter(
          (record) => record.status !== 'finished' && record.model === state.model && record.keys.some((key) => state.wanted.has(key) && !state.report.outcomes.has(key)),
        );
        for (let round = 1; round <= settings.maxRounds; round += 1) {
          const { work, todo } = await planRound(dependencies, { state, round, unfinished });
          if (work.length === 0) break;
          if (round > 1) logger.info(`${state.stage}: round ${round}: ${todo} lines again`);
          await mapWithConcurrency({ items: work, concurrency: settings.maxJobsInFlight, work: (item) => runBatchJob(dependencies, item.record, state, item.resumed) });
        }
        failUnanswered(state, settings.maxRounds);
        if (state.stragglersReplaced > 0 || state.lateResultsDropped > 0) {
          logger.info(`${state.stage}: ${formatCount(state.stragglersReplaced, 'straggler')} replaced; ${formatCount(state.lateResultsDropped, 'late answer')} for keys already answered dropped`);
        }
        return state.report;
      } finally {
        await cache.close();
      }
    },
  };
}
