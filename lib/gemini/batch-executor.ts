import type { GoogleGenAI } from '@google/genai';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InterruptedError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { formatCount } from '../format-count.ts';
import { mapWithConcurrency } from '../map-with-concurrency.ts';
import { callWithRetry, toGeminiCallError, type RetryEnvironment, type RetryPolicy } from './call-with-retry.ts';
import { separateMalformedLines } from './check-request-line.ts';
import type { GeminiConnection } from './create-gemini-client.ts';
import { downloadResultFile } from './download-result-file.ts';
import type { ExecuteOptions, ExecuteReport, GeminiExecutor } from './gemini-executor.ts';
import { type GeminiSettings } from '../../schemas/gemini-settings.ts';
import { toRetryPolicy } from './apply-gemini-settings.ts';
import { loadJobRecords, saveJobRecord, type JobRecord } from './job-record.ts';
import { describeLineError, isMissingFileError, judgeResponse, type LineOutcome, type RequestLine } from './line-outcome.ts';
import { fingerprintChunk, formatDisplayName, planChunks } from './plan-chunks.ts';
import { pollBatchJob } from './poll-batch-job.ts';
import { readResultLines, type ResultLineReader } from './read-result-lines.ts';
import { isFinal, openResultCache, type ResultCache } from './result-cache.ts';
import { createChunkSubmitter, type ChunkSubmission } from './submit-chunk.ts';
import { writeRequestFile } from './write-request-file.ts';
import { downloadedResultPath, requestFileRelativePath, resultCachePath } from '../store/workspace-layout.ts';

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
}

const defaultBaseUrl = 'https://generativelanguage.googleapis.com';

interface RunState {
  stage: string;
  model: string;
  cache: ResultCache;
  options: ExecuteOptions;
  /** Every distinct line asked for, by key; and the stage's job records, old and new (attempts are numbered by them). */
  wanted: Map<string, RequestLine>;
  records: JobRecord[];
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
  report: ExecuteReport;
}

export function createBatchExecutor(options: BatchExecutorOptions): GeminiExecutor {
  const { client, settings, environment, logger, workspace } = options;
  const readResults = options.readResults ?? readResultLines;
  const retry: { policy: RetryPolicy; environment: RetryEnvironment } = { policy: toRetryPolicy(settings), environment };
  const submitter = createChunkSubmitter({ client, workspace, settings, retry, now: environment.now, logger });

  const resultFilePath = (record: JobRecord) => downloadedResultPath(workspace.directory, record.stage, record.displayName);

  async function download(record: JobRecord, fileName: string): Promise<string> {
    const destination = resultFilePath(record);
    const { baseUrl = defaultBaseUrl, apiKey } = options.connection;
    const idleTimeoutMilliseconds = settings.downloadIdleTimeoutMilliseconds;
    const call = () => downloadResultFile({ baseUrl, apiKey, fileName, destination, idleTimeoutMilliseconds });
    await callWithRetry({ operation: `download ${fileName}`, ...retry, call });
    return destination;
  }

  async function collect(record: JobRecord, path: string, state: RunState): Promise<void> {
    const expected = new Set(record.keys);
    const seen = new Set<string>();
    let unknown = 0;
    const read = state.options.readResults ?? readResults;
    for await (const line of read(path)) {
      if (line.kind === 'unreadable') {
        logger.warn(`${state.stage}: ${path} line ${line.lineNumber}: ${line.problem}; skipped`);
        continue;
      }
      if (!expected.has(line.key)) {
        unknown += 1;
        continue;
      }
      if (seen.has(line.key)) continue;
      seen.add(line.key);
      const { validate, prepareResponse } = state.options;
      const outcome: LineOutcome =
        line.kind === 'error'
          ? { key: line.key, status: 'failed', ...describeLineError(line.error), error: line.error }
          : await judgeResponse({
              key: line.key,
              response: prepareResponse ? await prepareResponse(line.response) : line.response,
              ...(validate ? { validate } : {}),
            });
      await settle(outcome, state);
    }
    if (unknown > 0) logger.warn(`${state.stage}: ${path}: ${unknown} lines with keys this job did not send; ignored`);
    for (const key of record.keys) {
      if (!seen.has(key)) state.lastReasons.set(key, `missing from the results of ${record.jobName ?? record.displayName}`);
    }
  }

  async function settle(outcome: LineOutcome, state: RunState): Promise<void> {
    if (isFinal(outcome)) {
      await state.cache.put(outcome);
      state.report.outcomes.set(outcome.key, outcome);
      state.lastReasons.delete(outcome.key);
      logger.progress?.({ stage: state.stage, answered: 1 });
    } else if (outcome.status === 'failed') {
      state.lastReasons.set(outcome.key, outcome.reason);
      if (outcome.error !== undefined) state.lastErrors.set(outcome.key, outcome.error);
      if (isMissingFileError(outcome.error)) state.missingFileKeys.add(outcome.key);
    }
  }

  /** Submits (or resumes) one chunk's job, waits for it, and accounts for every one of its keys. */
  async function runChunk(record: JobRecord, state: RunState, resumed: boolean): Promise<void> {
    if (environment.signal?.aborted) throw new InterruptedError();
    if (!record.jobName) {
      const submission = await submitter.submit(record, { lookFirst: resumed });
      if (submission.status === 'refused') return refuseLines(record, submission, state);
      if (submission.status === 'adopted') {
        state.report.jobsAdopted += 1;
        logger.info(`${state.stage}: adopted ${submission.jobName} (${record.displayName}), created by an earlier attempt`);
      } else {
        state.report.jobsCreated += 1;
        state.report.sentLines += record.keys.length;
      }
      record.jobName = submission.jobName;
      record.status = 'submitted';
      await saveJobRecord(workspace.directory, record);
      logger.info(`${state.stage}: ${record.jobName} submitted with ${record.keys.length} lines`);
    }
    const result = await pollBatchJob({ client, stage: state.stage, jobName: record.jobName, once: state.options.detach === true, settings, retry, logger });
    if (!result.final) {
      state.report.pendingJobs += 1;
      for (const key of record.keys) state.heldKeys.add(key);
      logger.info(`${state.stage}: ${record.jobName} is ${result.state}; left running`);
      return;
    }
    if (result.fileName) {
      const path = await download(record, result.fileName);
      await collect(record, path, state);
    } else {
      logger.warn(`${state.stage}: ${record.jobName} ended ${result.state}; its ${record.keys.length} lines go into the next round`);
      for (const key of record.keys) state.lastReasons.set(key, `job ${record.jobName} ended ${result.state}`);
    }
    record.status = 'finished';
    record.finalState = result.state;
    await saveJobRecord(workspace.directory, record);
    if (result.fileName && state.options.discardResultFiles) await rm(resultFilePath(record), { force: true });
  }

  /**
   * Lines the API refused before a job existed fail for good in this run, with the API's reason; they are not cached,
   * so a later run (after a fix) asks again. The chunk's other lines go again at once, in a job of their own.
   */
  async function refuseLines(record: JobRecord, submission: Extract<ChunkSubmission, { status: 'refused' }>, state: RunState): Promise<void> {
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
    await saveJobRecord(workspace.directory, record);
    const rest = record.keys.filter((key) => !submission.reasons.has(key)).flatMap((key) => state.wanted.get(key) ?? []);
    if (rest.length === 0) return;
    logger.info(`${state.stage}: the other ${rest.length} lines of ${record.displayName} go again in a new job`);
    await runChunkSafely(await prepareChunk({ lines: rest, state }), state, false);
  }

  /** One chunk's trouble must not stop the others: its keys get the reason, and are held if their job exists. */
  async function runChunkSafely(record: JobRecord, state: RunState, resumed: boolean): Promise<void> {
    try {
      await runChunk(record, state, resumed);
    } catch (caught) {
      const error = toGeminiCallError(`${state.stage} ${record.jobName ?? record.displayName}`, caught);
      if (caught instanceof InterruptedError) {
        // Stopped by the user: the job record stays as it is and the next run resumes from it.
        for (const key of record.keys) state.heldKeys.add(key);
        return;
      }
      logger.error(error.message);
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

  /** What needs no request: answers in the cache, and lines that do not fit the request message (never sent). */
  async function settleWithoutSending(state: RunState): Promise<void> {
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

  async function prepareChunk(options: { lines: RequestLine[]; state: RunState }): Promise<JobRecord> {
    const keys = options.lines.map((line) => line.key);
    const fingerprint = fingerprintChunk({ model: options.state.model, keys });
    const attempt = options.state.records.filter((record) => record.fingerprint === fingerprint).length + 1;
    const displayName = formatDisplayName({ workspaceId: workspace.id, stage: options.state.stage, fingerprint, attempt });
    const requestFile = requestFileRelativePath(options.state.stage, displayName);
    await writeRequestFile(join(workspace.directory, requestFile), options.lines);
    const record: JobRecord = {
      version: 1,
      displayName,
      stage: options.state.stage,
      model: options.state.model,
      fingerprint,
      attempt,
      keys,
      requestFile,
      status: 'preparing',
      createdAt: new Date(environment.now()).toISOString(),
    };
    // Persisted before the job exists: a crash after `create` leaves a record to look the job up by.
    await saveJobRecord(workspace.directory, record);
    options.state.records.push(record);
    return record;
  }

  return {
    async execute(executeOptions) {
      const cache = await openResultCache({
        path: resultCachePath(workspace.directory, executeOptions.stage),
        onSkippedLine: (line, reason) => logger.warn(`result cache line ${line}: ${reason}`),
      });
      const state: RunState = {
        stage: executeOptions.stage,
        model: executeOptions.model,
        cache,
        options: executeOptions,
        wanted: new Map(),
        records: await loadJobRecords(workspace.directory, executeOptions.stage),
        lastReasons: new Map(),
        lastErrors: new Map(),
        missingFileKeys: new Set(),
        heldKeys: new Set(),
        refusalsLogged: new Set(),
        report: { outcomes: new Map(), cachedKeys: 0, sentLines: 0, jobsCreated: 0, jobsAdopted: 0, pendingJobs: 0 },
      };
      try {
        const { wanted, records } = state;
        for (const line of executeOptions.lines) if (!wanted.has(line.key)) wanted.set(line.key, line);
        await settleWithoutSending(state);
        const unfinished = records.filter(
          (record) => record.status !== 'finished' && record.model === state.model && record.keys.some((key) => wanted.has(key) && !state.report.outcomes.has(key)),
        );
        for (let round = 1; round <= settings.maxRounds; round += 1) {
          const resumedKeys = new Set(round === 1 ? unfinished.flatMap((record) => record.keys) : []);
          const todo = [...wanted.values()].filter(
            (line) => !state.report.outcomes.has(line.key) && !resumedKeys.has(line.key) && !state.heldKeys.has(line.key) && !state.missingFileKeys.has(line.key),
          );
          if (todo.length === 0 && resumedKeys.size === 0) break;
          const fresh: JobRecord[] = [];
          for (const chunk of planChunks({ lines: todo, maxLines: settings.chunkMaxLines, maxBytes: settings.chunkMaxBytes })) {
            fresh.push(await prepareChunk({ lines: chunk, state }));
          }
          const work = [
            ...(round === 1 ? unfinished.map((record) => ({ record, resumed: true })) : []),
            ...fresh.map((record) => ({ record, resumed: false })),
          ];
          if (round > 1) logger.info(`${state.stage}: round ${round}: ${todo.length} lines again`);
          await mapWithConcurrency({ items: work, concurrency: settings.maxJobsInFlight, work: (item) => runChunkSafely(item.record, state, item.resumed) });
        }
        for (const key of wanted.keys()) {
          if (state.report.outcomes.has(key)) continue;
          if (executeOptions.detach && state.heldKeys.has(key) && state.report.pendingJobs > 0) continue;
          const reason = state.lastReasons.get(key) ?? 'not answered';
          const suffix = state.heldKeys.has(key) || state.missingFileKeys.has(key) ? '' : ` (after ${formatCount(settings.maxRounds, 'round')})`;
          const error = state.lastErrors.get(key);
          state.report.outcomes.set(key, { key, status: 'failed', reason: `${reason}${suffix}`, retryable: true, ...(error !== undefined ? { error } : {}) });
        }
        return state.report;
      } finally {
        await cache.close();
      }
    },
  };
}
