import type { GoogleGenAI } from '@google/genai';
import type { Logger } from '../logger.ts';
import type { GeminiSettings } from '../../schemas/gemini-settings.ts';
import type { RetryEnvironment, RetryPolicy } from './call-with-retry.ts';
import { separateMalformedLines } from './check-request-line.ts';
import type { GeminiConnection } from './create-gemini-client.ts';
import type { ExecuteOptions, ExecuteReport } from './gemini-executor.ts';
import type { JobRecordIndex } from './job-record-index.ts';
import { isMissingFileError, type LineOutcome, type RequestLine } from './line-outcome.ts';
import type { ResultLineReader } from './read-result-lines.ts';
import type { ResultFileGate } from './result-file-gate.ts';
import { isFinal, type ResultCache } from './result-cache.ts';
import type { ChunkSubmitter } from './submit-chunk.ts';
import type { BatchService } from './batch-service.ts';
import type { JobLimiter } from './job-limiter.ts';
import type { StorageBudget } from './storage-budget.ts';
import { formatCount } from '../format-count.ts';

export interface ExecutorEnvironment extends RetryEnvironment {
  now: () => number;
  /** Aborted when the user interrupts: nothing new is started, and the run's state stays resumable. */
  signal?: AbortSignal;
}

export interface BatchExecutorOptions {
  client: GoogleGenAI;
  connection: GeminiConnection;
  workspace: { directory: string; id: string };
  settings: GeminiSettings;
  environment: ExecutorEnvironment;
  logger: Logger;
  /** How result files are read; the image stage streams its images to disk with its own. */
  readResults?: ResultLineReader;
  /** Shared by every executor of the run on this backend (maxJobsInFlight); one of its own when absent. */
  jobLimiter?: JobLimiter;
  /** The places for downloaded result files, shared by a run's executors; by default one of this executor's own. */
  resultFileGate?: ResultFileGate;
  /** The run's Files API budget, shared with its image uploads: request files are uploaded within it. */
  storage?: StorageBudget;
  /** The batch service jobs go to; by default the Gemini API's, through `client` and `connection`. */
  service?: BatchService;
}

/** What every part of one batch executor shares: the client, the backend's state folder, settings and retries. */
export interface BatchDependencies extends BatchExecutorOptions {
  readResults: ResultLineReader;
  resultFileGate: ResultFileGate;
  retry: { policy: RetryPolicy; environment: RetryEnvironment };
  service: BatchService;
  submitter: ChunkSubmitter;
}

/** One `execute` call's state: what is wanted, what is answered, and why the rest is not (yet). */
export interface RunState {
  stage: string;
  model: string;
  cache: ResultCache;
  options: ExecuteOptions;
  /** Every distinct line asked for, by key; and the stage's job records, old and new (attempts are numbered by them). */
  wanted: Map<string, RequestLine>;
  jobs: JobRecordIndex;
  /** The last retryable reason per key still to do, and the error line behind it. */
  lastReasons: Map<string, string>;
  lastErrors: Map<string, unknown>;
  /** Keys whose request points at a file that is gone: another round cannot help; the stage uploads it again. */
  missingFileKeys: Set<string>;
  /** Keys in a job that exists but could not be followed to its end: never sent again in this run (that would pay
   * twice); the next run resumes the job from its record. */
  heldKeys: Set<string>;
  /** Refusals said once, however many chunks they hit (every chunk's upload refused for its MIME type, say). */
  refusalsLogged: Set<string>;
  /** Stragglers cancelled and replaced in this call, and answers dropped because their key was already answered. */
  stragglersReplaced: number;
  /** Jobs this call created (display names): a replacement for one of them resends lines already counted as sent. */
  createdJobs: Set<string>;
  lateResultsDropped: number;
  report: ExecuteReport;
}

export function createRunState(options: { executeOptions: ExecuteOptions; cache: ResultCache; jobs: JobRecordIndex }): RunState {
  const wanted = new Map<string, RequestLine>();
  for (const line of options.executeOptions.lines) if (!wanted.has(line.key)) wanted.set(line.key, line);
  return {
    stage: options.executeOptions.stage,
    model: options.executeOptions.model,
    cache: options.cache,
    options: options.executeOptions,
    wanted,
    jobs: options.jobs,
    lastReasons: new Map(),
    lastErrors: new Map(),
    missingFileKeys: new Set(),
    heldKeys: new Set(),
    refusalsLogged: new Set(),
    stragglersReplaced: 0,
    createdJobs: new Set(),
    lateResultsDropped: 0,
    report: { outcomes: new Map(), cachedKeys: 0, sentLines: 0, jobsCreated: 0, jobsAdopted: 0, pendingJobs: 0 },
  };
}

/**
 * A final outcome is cached and reported; a failed one leaves its reason for the next round (or the end). Settled
 * once: a late answer for a key already answered (a straggler's, a job adopted twice over) is dropped, never placed
 * or cached again.
 */
export async function settleOutcome(outcome: LineOutcome, state: RunState, logger: Logger): Promise<void> {
  if (state.report.outcomes.has(outcome.key)) {
    state.lateResultsDropped += 1;
    return;
  }
  if (isFinal(outcome)) {
    // Claimed before the await: two jobs' results read at once must not both pass the check above.
    state.report.outcomes.set(outcome.key, outcome);
    await state.cache.put(outcome);
    if (!state.wanted.has(outcome.key)) {
      // A job of an earlier run may hold keys another call of this run wants: cached for it, reported by it.
      state.report.outcomes.delete(outcome.key);
      return;
    }
    state.lastReasons.delete(outcome.key);
    logger.progress?.({ stage: state.stage, answered: 1 });
  } else if (outcome.status === 'failed') {
    state.lastReasons.set(outcome.key, outcome.reason);
    if (outcome.error !== undefined) state.lastErrors.set(outcome.key, outcome.error);
    if (isMissingFileError(outcome.error)) state.missingFileKeys.add(outcome.key);
  }
}

/** What needs no request: answers in the cache, and lines that do not fit the request message (never sent). */
export async function settleWithoutSending(state: RunState, logger: Logger): Promise<void> {
  const { isCachedUsable } = state.options;
  for (const key of state.wanted.keys()) {
    const cached = state.cache.get(key);
    if (cached && (!isCachedUsable || (await isCachedUsable(cached)))) {
      state.report.outcomes.set(key, cached);
      state.report.cachedKeys += 1;
    }
  }
  const unanswered = [...state.wanted.values()].filter((line) => !state.report.outcomes.has(line.key));
  const { refused } = separateMalformedLines({ lines: unanswered, stage: state.stage, logger });
  for (const outcome of refused) state.report.outcomes.set(outcome.key, outcome);
  if (state.report.outcomes.size > 0) logger.progress?.({ stage: state.stage, withoutRequest: state.report.outcomes.size });
}

/** After the last round: every key still without an outcome fails with its last reason (held ones, when detached, wait). */
export function failUnanswered(state: RunState, maxRounds: number): void {
  for (const key of state.wanted.keys()) {
    if (state.report.outcomes.has(key)) continue;
    if (state.options.detach && state.heldKeys.has(key) && state.report.pendingJobs > 0) continue;
    const reason = state.lastReasons.get(key) ?? 'not answered';
    const suffix = state.heldKeys.has(key) || state.missingFileKeys.has(key) ? '' : ` (after ${formatCount(maxRounds, 'round')})`;
    const error = state.lastErrors.get(key);
    state.report.outcomes.set(key, { key, status: 'failed', reason: `${reason}${suffix}`, retryable: true, ...(error !== undefined ? { error } : {}) });
  }
}
