import type { GoogleGenAI } from '@google/genai';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../workspace/atomic-file.ts';
import { InterruptedError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { mapWithConcurrency } from '../map-with-concurrency.ts';
import { callWithRetry, computeRetryDelay, toGeminiCallError, type RetryEnvironment, type RetryPolicy } from './call-with-retry.ts';
import type { GeminiConnection } from './create-gemini-client.ts';
import { downloadResultFile } from './download-result-file.ts';
import type { ExecuteOptions, ExecuteReport, GeminiExecutor } from './gemini-executor.ts';
import { toRetryPolicy, type GeminiSettings } from './gemini-settings.ts';
import { loadJobRecords, saveJobRecord, type JobRecord } from './job-record.ts';
import { describeLineError, isMissingFileError, judgeResponse, type LineOutcome, type RequestLine } from './line-outcome.ts';
import { readResultLines, type ResultLineReader } from './read-result-lines.ts';
import { listWorkspaceJobs } from './workspace-jobs.ts';
import { isFinal, openResultCache, type ResultCache } from './result-cache.ts';

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

const terminalFailures = new Set(['JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_EXPIRED']);
const defaultBaseUrl = 'https://generativelanguage.googleapis.com';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function fingerprintChunk(options: { model: string; keys: readonly string[] }): string {
  return sha256(`${options.model}\n${[...options.keys].sort().join('\n')}`);
}

/** A deterministic name: the same chunk of the same workspace always gets it, so a lost job can be found by it. */
export function formatDisplayName(options: { workspaceId: string; stage: string; fingerprint: string; attempt: number }): string {
  return `chargen-${options.workspaceId}-${options.stage}-${options.fingerprint.slice(0, 16)}-${options.attempt}`;
}

/** Splits lines into chunks that respect both the line and the byte limit. */
export function planChunks(options: { lines: readonly RequestLine[]; maxLines: number; maxBytes: number }): RequestLine[][] {
  const chunks: RequestLine[][] = [];
  let current: RequestLine[] = [];
  let bytes = 0;
  for (const line of options.lines) {
    const size = Buffer.byteLength(JSON.stringify({ key: line.key, request: line.request })) + 1;
    if (current.length > 0 && (current.length >= options.maxLines || bytes + size > options.maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(line);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

interface RunState {
  stage: string;
  model: string;
  cache: ResultCache;
  options: ExecuteOptions;
  /** The last retryable reason per key still to do, and the error line behind it. */
  lastReasons: Map<string, string>;
  lastErrors: Map<string, unknown>;
  /** Keys whose request points at a file that is gone: another round cannot help; the stage uploads it again. */
  missingFileKeys: Set<string>;
  /** Keys in a job that exists but could not be followed to its end: never sent again in this run (that would pay
   * twice); the next run resumes the job from its record. */
  heldKeys: Set<string>;
  report: ExecuteReport;
}

export function createBatchExecutor(options: BatchExecutorOptions): GeminiExecutor {
  const { client, settings, environment, logger, workspace } = options;
  const readResults = options.readResults ?? readResultLines;
  const retry: { policy: RetryPolicy; environment: RetryEnvironment } = {
    policy: toRetryPolicy(settings),
    environment,
  };
  const call = <T>(operation: string, run: () => Promise<T>) => callWithRetry({ operation, call: run, ...retry });

  async function findJobByDisplayName(displayName: string): Promise<string | undefined> {
    const jobs = await listWorkspaceJobs({ client, workspaceId: workspace.id, retry });
    return jobs.find((job) => job.displayName === displayName)?.name;
  }

  async function uploadRequestFile(record: JobRecord): Promise<string> {
    const file = await call(`upload ${record.requestFile}`, () =>
      client.files.upload({ file: join(workspace.directory, record.requestFile), config: { mimeType: settings.jsonlMimeType, displayName: record.displayName } }),
    );
    if (!file.name) throw new Error('the Files API answered without a file name');
    return file.name;
  }

  /** Creates the job, or finds the one an earlier attempt created: `create` is never simply retried. */
  async function createOrAdopt(record: JobRecord, state: RunState, lookFirst: boolean): Promise<string> {
    if (lookFirst) {
      const adopted = await findJobByDisplayName(record.displayName);
      if (adopted) {
        state.report.jobsAdopted += 1;
        logger.info(`${state.stage}: adopted ${adopted} (${record.displayName}), created before an interruption`);
        return adopted;
      }
    }
    for (let attempt = 0; ; attempt += 1) {
      try {
        const inputFileName = record.inputFileName ?? (await uploadRequestFile(record));
        if (!record.inputFileName) {
          record.inputFileName = inputFileName;
          await saveJobRecord(workspace.directory, record);
        }
        const job = await client.batches.create({ model: record.model, src: inputFileName, config: { displayName: record.displayName } });
        if (!job.name) throw new Error('batches.create answered without a job name');
        state.report.jobsCreated += 1;
        state.report.sentLines += record.keys.length;
        return job.name;
      } catch (caught) {
        const error = toGeminiCallError('batches.create', caught);
        const adopted = await findJobByDisplayName(record.displayName);
        if (adopted) {
          state.report.jobsAdopted += 1;
          return adopted;
        }
        if (error.status === 403 || error.status === 404) {
          // The uploaded request file is gone (expired or deleted): upload it again.
          delete record.inputFileName;
        } else if (!error.isRetryable || attempt + 1 >= settings.retryAttempts) {
          throw error;
        }
        await environment.sleep(computeRetryDelay({ attempt, policy: retry.policy, random: environment.random, ...(error.retryDelayMilliseconds !== undefined ? { serverDelayMilliseconds: error.retryDelayMilliseconds } : {}) }));
      }
    }
  }

  async function pollUntilDone(stage: string, jobName: string, once: boolean): Promise<{ state: string; fileName?: string; final: boolean }> {
    let delay = settings.pollInitialMilliseconds;
    let lastState = '';
    for (;;) {
      const job = await call(`batches.get ${jobName}`, () => client.batches.get({ name: jobName }));
      const state = String(job.state ?? '').replace(/^BATCH_STATE_/, 'JOB_STATE_');
      if (state !== lastState) {
        logger.info(`${jobName}: ${state.replace(/^JOB_STATE_/, '').toLowerCase()}`);
        logger.progress?.({ stage, job: { name: jobName, state } });
      }
      lastState = state;
      // SUCCEEDED without a result file is not ready yet (seen on the real API).
      if (state === 'JOB_STATE_SUCCEEDED' && job.dest?.fileName) return { state, fileName: job.dest.fileName, final: true };
      if (terminalFailures.has(state)) return { state, final: true };
      if (once) return { state, final: false };
      await environment.sleep(delay / 2 + environment.random() * (delay / 2));
      delay = Math.min(settings.pollMaxMilliseconds, delay * 2);
    }
  }

  const resultFilePath = (record: JobRecord) => join(workspace.directory, 'downloads', record.stage, `${record.displayName}.jsonl`);

  async function download(record: JobRecord, fileName: string): Promise<string> {
    const destination = resultFilePath(record);
    await callWithRetry({
      operation: `download ${fileName}`,
      ...retry,
      call: () =>
        downloadResultFile({
          baseUrl: options.connection.baseUrl ?? defaultBaseUrl,
          apiKey: options.connection.apiKey,
          fileName,
          destination,
          idleTimeoutMilliseconds: settings.downloadIdleTimeoutMilliseconds,
        }),
    });
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
      record.jobName = await createOrAdopt(record, state, resumed);
      record.status = 'submitted';
      await saveJobRecord(workspace.directory, record);
      logger.info(`${state.stage}: ${record.jobName} submitted with ${record.keys.length} lines`);
    }
    const result = await pollUntilDone(state.stage, record.jobName, state.options.detach === true);
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

  async function prepareChunk(options: { lines: RequestLine[]; state: RunState; existing: JobRecord[] }): Promise<JobRecord> {
    const keys = options.lines.map((line) => line.key);
    const fingerprint = fingerprintChunk({ model: options.state.model, keys });
    const attempt = options.existing.filter((record) => record.fingerprint === fingerprint).length + 1;
    const displayName = formatDisplayName({ workspaceId: workspace.id, stage: options.state.stage, fingerprint, attempt });
    const requestFile = join('requests', options.state.stage, `${displayName}.jsonl`);
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
    options.existing.push(record);
    return record;
  }

  return {
    async execute(executeOptions) {
      const cache = await openResultCache({
        path: join(workspace.directory, 'results', `${executeOptions.stage}.jsonl`),
        onSkippedLine: (line, reason) => logger.warn(`result cache line ${line}: ${reason}`),
      });
      const state: RunState = {
        stage: executeOptions.stage,
        model: executeOptions.model,
        cache,
        options: executeOptions,
        lastReasons: new Map(),
        lastErrors: new Map(),
        missingFileKeys: new Set(),
        heldKeys: new Set(),
        report: { outcomes: new Map(), cachedKeys: 0, sentLines: 0, jobsCreated: 0, jobsAdopted: 0, pendingJobs: 0 },
      };
      try {
        const wanted = new Map<string, RequestLine>();
        for (const line of executeOptions.lines) if (!wanted.has(line.key)) wanted.set(line.key, line);
        for (const key of wanted.keys()) {
          const cached = cache.get(key);
          if (cached && (!executeOptions.isCachedUsable || (await executeOptions.isCachedUsable(cached)))) {
            state.report.outcomes.set(key, cached);
            state.report.cachedKeys += 1;
          }
        }
        const records = await loadJobRecords(workspace.directory, state.stage);
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
            fresh.push(await prepareChunk({ lines: chunk, state, existing: records }));
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
          const suffix = state.heldKeys.has(key) || state.missingFileKeys.has(key) ? '' : ` (after ${settings.maxRounds} rounds)`;
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

/** One `{key, request}` JSON line per request, the file a batch job reads (also what `chargen doctor --probe` sends). */
export async function writeRequestFile(path: string, lines: readonly RequestLine[]): Promise<void> {
  await writeFileAtomic(path, lines.map((line) => `${JSON.stringify({ key: line.key, request: line.request })}\n`).join(''));
}
