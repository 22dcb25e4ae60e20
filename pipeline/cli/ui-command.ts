import { relative, resolve } from 'node:path';
import { z } from 'zod';
import { readConfigFile, resolveConfig } from '../config/load-config.ts';
import { isLoopbackUrl, resolveBackend } from '../connect-backend.ts';
import { ChargenError, exitCodes } from '../../lib/errors.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { readBatchJob } from '../../lib/gemini/read-batch-job.ts';
import type { Logger } from '../../lib/logger.ts';
import { serveHandler, type ServedHandler } from '../../lib/serve-handler.ts';
import { createUiActions } from '../ui/create-ui-actions.ts';
import { createRegenerateActions } from '../ui/create-regenerate-actions.ts';
import { createWorkspaceLease } from '../regenerate/workspace-lease.ts';
import { withRegenerateQueueStore } from '../../lib/store/regenerate-queue-store.ts';
import { createUiHandler, type UiHandler } from '../ui/create-ui-handler.ts';
import { createThumbnailCache } from '../../lib/media/thumbnail-cache.ts';
import { createUiState } from '../ui/create-ui-state.ts';
import { createWorkspaceFilesReader } from '../ui/read-workspace-files.ts';
import { computeImageRequestKey, toUnseededPrompt } from '../../stages/synthesize/core/build-image-request.ts';
import { reportCommandError } from './report-command-error.ts';
import { reportFlagProblems } from './report-flag-problems.ts';
import { backendStateDirectory, thumbnailsDirectory } from '../../lib/store/workspace-layout.ts';

const flagsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8788),
  workdir: z.string().min(1).optional(),
  config: z.string().min(1).optional(),
  backend: z.string().optional(),
  input: z.string().min(1).optional(),
  out: z.string().min(1).optional(),
});

/** Job states are asked of the real API every 15 s at most (it rate-limits), of a local endpoint every second. */
function choosePollInterval(baseUrl: string | undefined): number {
  return isLoopbackUrl(baseUrl) ? 1_000 : 15_000;
}

export interface RunningUi {
  url: string;
  workspaceDirectory: string;
  backend: string;
  /** The backend for people, and why it is the one (the key, the setting, or the workspace's memory). */
  backendLabel: string;
  /** Stops a run started from the page (resumably), then the server. */
  close(): Promise<void>;
}

/** Serves the handler on 127.0.0.1:`port`; a port it cannot take closes the handler and says why (listen-failed). */
async function serveUiHandler(handler: UiHandler, port: number): Promise<ServedHandler> {
  try {
    return await serveHandler({ handler: (request, response) => handler.handle(request, response), port });
  } catch (error) {
    await handler.close();
    const reason =
      (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? 'it is in use (is another `chargen ui` running?); pass --port with another number, or 0 for any free one'
        : (error as Error).message;
    throw new ChargenError({ code: 'listen-failed', message: `cannot listen on 127.0.0.1:${port}: ${reason}`, cause: error });
  }
}

/**
 * Serves the UI of the workspace `config` names on 127.0.0.1:`port` (0 picks a free one). The workspace must exist and
 * read cleanly first: a missing or damaged one throws its ChargenError here rather than serving a blank page.
 */
export async function startUiServer(options: {
  cwd: string;
  env: NodeJS.ProcessEnv;
  config: ChargenConfig;
  /** The config as it is now, for each run started from the page; `config` itself when absent. */
  loadConfig?: () => Promise<ChargenConfig>;
  logger: Logger;
  port: number;
  /** How often open pages get the queue when it changed. */
  refreshMilliseconds?: number;
  /** How long one look at a job's state may take. */
  lookupTimeoutMilliseconds?: number;
  now?: () => number;
  fetch?: typeof globalThis.fetch;
}): Promise<RunningUi> {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  const workspaceDirectory = resolve(options.cwd, config.workdir);
  // In a shell without the key, the workspace's own backend (remembered by its runs): its jobs and answers are shown.
  const resolution = await resolveBackend({ choice: config.backend, vertex: config.vertex, cwd: options.cwd, env: options.env, workspaceDirectory });
  const backend = resolution.identity;
  const stateDirectory = backendStateDirectory(workspaceDirectory, backend);
  // Read in full before serving: a missing or damaged workspace is an error here, not a blank page. The reader keeps
  // what it parsed for the first page.
  const reader = createWorkspaceFilesReader({ workspaceDirectory, stateDirectory });
  await reader.read();
  // The page writes the artist's queue and versions: the checkpoint database is brought to this chargen's schema now
  // (a database an older chargen made would otherwise read as empty until the next run).
  withRegenerateQueueStore({ workspaceDirectory, now }, () => undefined);

  const connection = resolution.connection;
  const actions = createUiActions({ cwd: options.cwd, env: options.env, loadConfig: options.loadConfig ?? (async () => config), logger, workspaceDirectory, backend, now });
  const outputDirectory = resolve(options.cwd, config.out);
  let tick: () => void = () => undefined;
  const regenerate = createRegenerateActions({ cwd: options.cwd, env: options.env, loadConfig: options.loadConfig ?? (async () => config), logger, workspaceDirectory, lease: createWorkspaceLease({ directory: workspaceDirectory, now }), now, onChange: () => tick() });
  const state = createUiState({
    regenerate,
    workspaceDirectory,
    reader,
    outputDirectory,
    backend,
    actions,
    ...(connection ? { lookupJob: (name: string, signal: AbortSignal) => readBatchJob({ connection, fetch: options.fetch ?? globalThis.fetch, name, signal }) } : {}),
    jobPollMilliseconds: choosePollInterval(connection?.baseUrl),
    lookupTimeoutMilliseconds: options.lookupTimeoutMilliseconds ?? 10_000,
    now,
    pid: process.pid,
    requestKeyOf: (prompt) => {
      const unseeded = toUnseededPrompt(prompt);
      return [computeImageRequestKey({ prompt, settings: config.synthesize }), ...(unseeded ? [computeImageRequestKey({ prompt: unseeded, settings: config.synthesize })] : [])];
    },
  });
  const handler = createUiHandler({
    state,
    actions,
    regenerate,
    inputDirectory: resolve(options.cwd, config.input),
    outputDirectory,
    logger,
    refreshMilliseconds: options.refreshMilliseconds ?? 1_000,
    secrets: connection ? [connection.apiKey] : [],
    thumbnails: createThumbnailCache({ directory: thumbnailsDirectory(workspaceDirectory) }),
  });
  tick = () => void handler.tick();
  const served = await serveUiHandler(handler, options.port);
  // A batch a crash (or a stop) left being sent goes on: its job is adopted, never made twice.
  await regenerate.resume();
  return {
    url: `${served.baseUrl}/`,
    workspaceDirectory,
    backend,
    backendLabel: `${resolution.label} (${resolution.reason})`,
    async close() {
      await handler.close();
      await regenerate.stop();
      await actions.stop();
      await served.close();
    },
  };
}

/** `chargen ui`: serves the workspace's queue, dead letters and gallery until stopped; exit 2 when it cannot. */
export async function runUiCommand(options: {
  cwd: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  flags: Record<string, unknown>;
  waitForStop: () => Promise<void>;
}): Promise<number> {
  const { logger } = options;
  const flags = flagsSchema.safeParse(options.flags);
  if (!flags.success) {
    reportFlagProblems(logger, flags.error);
    return exitCodes.usage;
  }
  try {
    const loadConfig = async () => {
      const file = await readConfigFile({ cwd: options.cwd, ...(flags.data.config ? { path: flags.data.config } : {}) });
      return resolveConfig({ ...(file ? { file } : {}), env: options.env, flags: flags.data });
    };
    const ui = await startUiServer({ cwd: options.cwd, env: options.env, config: await loadConfig(), loadConfig, logger, port: flags.data.port });
    logger.print(`chargen ui: ${ui.url}`);
    logger.info(`workspace ${relative(options.cwd, ui.workspaceDirectory) || '.'} (backend: ${ui.backendLabel}); Ctrl-C stops the server (and a run started from the page, resumably).`);
    await options.waitForStop();
    logger.info('chargen ui: stopping');
    await ui.close();
    return exitCodes.done;
  } catch (error) {
    return reportCommandError(logger, error);
  }
}
