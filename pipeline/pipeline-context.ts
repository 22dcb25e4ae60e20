import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ChargenConfig } from '../schemas/chargen-config.ts';
import { connectBackend, resolveBackend } from './connect-backend.ts';
import type { Backend, ConnectedBackend, UploadFunction } from '../lib/gemini/connected-backend.ts';
import type { StageContext } from '../stages/stage-context.ts';
import { InterruptedError, JobsPendingError, UsageError } from '../lib/errors.ts';
import { createBatchExecutor, type ExecutorEnvironment } from '../lib/gemini/batch-executor.ts';
import type { ExecuteReport, GeminiExecutor } from '../lib/gemini/gemini-executor.ts';
import { emulatorGeminiSettings, geminiSettingsSchema } from '../schemas/gemini-settings.ts';
import { computeRequiredUploadLifetime, toRetryPolicy } from '../lib/gemini/apply-gemini-settings.ts';
import { createSyncExecutor } from '../lib/gemini/sync-executor.ts';
import { createJobLimiter } from '../lib/gemini/job-limiter.ts';
import { createStorageBudget } from '../lib/gemini/storage-budget.ts';
import { connectBackendStorage } from './connect-backend-storage.ts';
import { forgetUploadRecords, openUploadRegistry } from '../lib/gemini/upload-registry.ts';
import type { Logger } from '../lib/logger.ts';
import type { Workspace } from '../lib/store/open-workspace.ts';
import { rememberBackend } from '../lib/store/remember-backend.ts';
import { readCodeVersion } from './read-code-version.ts';
import { backendStateDirectory, ephemeralBackendPaths } from '../lib/store/workspace-layout.ts';
import { listInputFolder, type InputListing } from '../stages/analyze/list-input-folder.ts';

export { readCodeVersion };
export type { ConnectedBackend, UploadFunction };
export { JobsPendingError };

/** The run's context: what the stages read (StageContext), and closing what was opened for it. */
export interface PipelineContext extends StageContext {
  /**
   * Deletes every upload the backend holds on the Files API, when a run that connected has finished: no job of it is
   * pending, so none needs them (a later run uploads what it needs again). Nothing when the run never connected.
   */
  releaseHeldUploads(): Promise<void>;
  close(): Promise<void>;
}

/** A sleep that ends early, with InterruptedError, when the user interrupts. */
export function createInterruptibleSleep(signal: AbortSignal): (milliseconds: number) => Promise<void> {
  return (milliseconds) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(new InterruptedError());
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, milliseconds);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new InterruptedError());
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
}

export interface PipelineContextOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  config: ChargenConfig;
  logger: Logger;
  workspace: Workspace;
  signal: AbortSignal;
  detach: boolean;
  environment?: Partial<ExecutorEnvironment>;
  /** A run: it has named its backend already, and the workspace remembers the backend once it connects. */
  forRun?: boolean;
}

/** What connecting needs besides the options: the run's clock and sleep, where reports go, what to close at the end. */
type ConnectOptions = PipelineContextOptions & { environment: ExecutorEnvironment; reports: Map<string, ExecuteReport>; closers: (() => Promise<void>)[] };

/**
 * A stage's counts add up over its calls (its chunks, its models, a second call for uploads that were gone); the
 * outcomes are the stage's own to keep, so only the last call's are held here, never a copy of them all.
 */
function addReports(earlier: ExecuteReport | undefined, report: ExecuteReport): ExecuteReport {
  if (!earlier) return report;
  return {
    outcomes: report.outcomes,
    cachedKeys: earlier.cachedKeys + report.cachedKeys,
    sentLines: earlier.sentLines + report.sentLines,
    jobsCreated: earlier.jobsCreated + report.jobsCreated,
    jobsAdopted: earlier.jobsAdopted + report.jobsAdopted,
    pendingJobs: earlier.pendingJobs + report.pendingJobs,
  };
}

/** The executor the stages call: each stage's report kept, and a run interrupted or left pending stopped there. */
function createStageExecutor(options: { inner: GeminiExecutor; detach: boolean; signal: AbortSignal; reports: Map<string, ExecuteReport> }): GeminiExecutor {
  const { findAnswered } = options.inner;
  return {
    ...(findAnswered ? { findAnswered: (findOptions: { stage: string; keys: Iterable<string> }) => findAnswered(findOptions) } : {}),
    async execute(executeOptions) {
      const report = await options.inner.execute({ ...executeOptions, detach: options.detach });
      options.reports.set(executeOptions.stage, addReports(options.reports.get(executeOptions.stage), report));
      // A stage must not record results it has only partly: stop here, the job records and caches keep the rest.
      if (options.signal.aborted) throw new InterruptedError();
      if (report.pendingJobs > 0) throw new JobsPendingError({ stage: executeOptions.stage, pendingJobs: report.pendingJobs });
      return report;
    },
  };
}

/** The backend connected and remembered, its state folder ready (a built-in emulator's emptied), --detach checked. */
async function connectBackendState(options: ConnectOptions): Promise<{ backend: Backend; stateDirectory: string }> {
  const { config, workspace } = options;
  const backend = await connectBackend({ choice: config.backend, vertex: config.vertex, cwd: options.cwd, env: options.env, logger: options.logger, workspaceDirectory: workspace.directory, announce: options.forRun !== true });
  options.closers.push(() => backend.close());
  if (options.forRun) {
    const { baseUrl } = backend.connection;
    const remembered = { ...(backend.kind !== 'emulator' && baseUrl ? { baseUrl } : {}), ...(backend.vertex ? { vertex: backend.vertex.target } : {}) };
    await rememberBackend({ workspaceDirectory: workspace.directory, identity: backend.identity, ...remembered, now: options.environment.now });
  }
  if (options.detach && backend.ephemeral) {
    throw new UsageError({ message: '--detach needs a backend that outlives this process: set GEMINI_API_KEY, or CHARGEN_BASE_URL to a running `chargen emulator`.' });
  }
  const stateDirectory = backendStateDirectory(workspace.directory, backend.identity);
  if (backend.ephemeral) {
    // Jobs and files of an earlier built-in emulator died with it; its answers (deterministic) stay cached.
    for (const path of ephemeralBackendPaths(stateDirectory)) await rm(path, { recursive: true, force: true });
    await forgetUploadRecords({ stateDirectory, now: options.environment.now });
  }
  return { backend, stateDirectory };
}

/** Connects the backend for the stages: its settings, the executor of the configured mode, uploads through the registry. */
async function connectForStages(options: ConnectOptions): Promise<ConnectedBackend> {
  const { config, logger, environment, signal } = options;
  const { backend, stateDirectory } = await connectBackendState(options);
  const settings = geminiSettingsSchema.parse({ ...(backend.kind === 'emulator' ? emulatorGeminiSettings : backend.settingsOverrides), ...config.gemini });
  const state = { directory: stateDirectory, id: options.workspace.id };
  // One budget for the run's images and request files on the Files API.
  const storage = createStorageBudget({ budgetBytes: settings.storageBudgetBytes, sheets: config.synthesize.sheet });
  const registry = await openUploadRegistry({
    stateDirectory,
    requiredLifetimeMilliseconds: computeRequiredUploadLifetime({ settings, mode: config.mode }),
    now: environment.now,
    onSkippedLine: (line, reason) => logger.warn(`uploads.jsonl line ${line}: ${reason}`),
  });
  options.closers.push(() => registry.close());
  const retry = { policy: toRetryPolicy(settings), environment };
  const files = connectBackendStorage({ backend, registry, settings, workspace: state, environment, retry, signal, logger });
  const inner =
    config.mode === 'sync'
      ? createSyncExecutor({ client: backend.client, workspace: state, settings, environment, logger })
      : createBatchExecutor({
          client: backend.client,
          connection: backend.connection,
          workspace: state,
          settings,
          environment,
          logger,
          jobLimiter: createJobLimiter({ limit: settings.maxJobsInFlight }),
          storage,
          service: files.batchService,
        });
  return {
    backend,
    settings,
    stateDirectory,
    executor: createStageExecutor({ inner, detach: options.detach, signal, reports: options.reports }),
    retry,
    storage,
    async releaseUploads(sha256s) {
      const chosen = sha256s ?? registry.listUndeleted().map((record) => record.sha256);
      const report = await files.deleteUploads(chosen);
      const later = backend.vertex ? '`chargen clean` deletes it later' : 'it expires on its own 48 h after upload';
      for (const failed of report.failed) logger.warn(`could not delete ${failed.name} (${later}): ${failed.reason}`);
      return report;
    },
    upload: files.upload,
  };
}

/** The run's context; the backend is resolved now (named, not connected) and connected at the first stage that needs it. */
export async function createPipelineContext(options: PipelineContextOptions): Promise<PipelineContext> {
  const { config, logger, workspace, signal } = options;
  const environment: ExecutorEnvironment = {
    sleep: createInterruptibleSleep(signal),
    random: Math.random,
    now: Date.now,
    signal,
    ...options.environment,
  };
  const reports = new Map<string, ExecuteReport>();
  const resolution = await resolveBackend({ choice: config.backend, vertex: config.vertex, cwd: options.cwd, env: options.env, workspaceDirectory: workspace.directory });
  const closers: (() => Promise<void>)[] = [];
  let connected: Promise<ConnectedBackend> | undefined;
  let inputListing: Promise<InputListing> | undefined;

  return {
    cwd: options.cwd,
    config,
    logger,
    workspace,
    environment,
    signal,
    codeVersion: await readCodeVersion(),
    backendIdentity: resolution.identity,
    backend: resolution,
    inputDirectory: resolve(options.cwd, config.input),
    outputDirectory: resolve(options.cwd, config.out),
    reports,
    listInput: () => (inputListing ??= listInputFolder({ inputDirectory: resolve(options.cwd, config.input), outputDirectory: resolve(options.cwd, config.out), workspaceDirectory: workspace.directory, settings: config.analyze })),
    connect: () => (connected ??= connectForStages({ ...options, environment, reports, closers })),
    async releaseHeldUploads() {
      if (connected) await (await connected).releaseUploads();
    },
    async close() {
      for (const close of closers.reverse()) await close().catch(() => undefined);
    },
  };
}
