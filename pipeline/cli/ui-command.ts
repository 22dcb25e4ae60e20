import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { readConfigFile, resolveConfig } from '../config/load-config.ts';
import { resolveBackendIdentity } from '../connect-backend.ts';
import { ChargenError } from '../errors.ts';
import { resolveGeminiConnection } from '../gemini/create-gemini-client.ts';
import { readBatchJob } from '../gemini/read-batch-job.ts';
import type { Logger } from '../logger.ts';
import { createUiActions } from '../ui/create-ui-actions.ts';
import { createUiHandler } from '../ui/create-ui-handler.ts';
import { createUiState } from '../ui/create-ui-state.ts';
import { createWorkspaceFilesReader } from '../ui/read-workspace-files.ts';
import { exitCodes } from './exit-codes.ts';

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
  return baseUrl !== undefined && /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\/?$/.test(baseUrl) ? 1_000 : 15_000;
}

async function listen(server: Server, port: number): Promise<AddressInfo> {
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', fail);
      done();
    });
  });
  return server.address() as AddressInfo;
}

/**
 * `chargen ui`: serves the queue, dead letters and gallery of a workspace on 127.0.0.1 until stopped. The workspace
 * must exist and read cleanly at start (exit 2 with the reason otherwise); later problems show on the page.
 */
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
    for (const issue of flags.error.issues) logger.error(`--${issue.path.join('.')}: ${issue.message}`);
    return exitCodes.usage;
  }
  let server: Server | undefined;
  try {
    const file = await readConfigFile({ cwd: options.cwd, ...(flags.data.config ? { path: flags.data.config } : {}) });
    const config = resolveConfig({ ...(file ? { file } : {}), env: options.env, flags: flags.data });
    const workspaceDirectory = resolve(options.cwd, config.workdir);
    const backend = await resolveBackendIdentity({ choice: config.backend, cwd: options.cwd, env: options.env });
    const stateDirectory = join(workspaceDirectory, 'backends', backend);
    // Read once in full before serving: a missing or damaged workspace is a clear error here, not a blank page.
    await createWorkspaceFilesReader({ workspaceDirectory, stateDirectory }).read();

    const connection = backend === 'emulator' ? undefined : await resolveGeminiConnection({ cwd: options.cwd, env: options.env });
    const actions = createUiActions({ cwd: options.cwd, env: options.env, config, logger, workspaceDirectory, backend, now: Date.now });
    const state = createUiState({
      workspaceDirectory,
      stateDirectory,
      outputDirectory: resolve(options.cwd, config.out),
      backend,
      actions,
      ...(connection ? { lookupJob: (name: string) => readBatchJob({ connection, fetch: globalThis.fetch, name }) } : {}),
      jobPollMilliseconds: choosePollInterval(connection?.baseUrl),
      now: Date.now,
    });
    const handler = createUiHandler({
      state,
      actions,
      inputDirectory: resolve(options.cwd, config.input),
      outputDirectory: resolve(options.cwd, config.out),
      logger,
      refreshMilliseconds: 1_000,
      secrets: connection ? [connection.apiKey] : [],
    });
    server = createServer((request, response) => handler.handle(request, response));
    let address: AddressInfo;
    try {
      address = await listen(server, flags.data.port);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'it is in use (is another `chargen ui` running?); pass --port with another number, or 0 for any free one' : (error as Error).message;
      logger.error(`cannot listen on 127.0.0.1:${flags.data.port}: ${reason}`);
      return exitCodes.usage;
    }
    logger.print(`chargen ui: http://127.0.0.1:${address.port}/`);
    logger.info(`workspace ${relative(options.cwd, workspaceDirectory) || '.'} (backend ${backend}); Ctrl-C stops the server (and a run started from the page, resumably).`);
    await options.waitForStop();
    logger.info('chargen ui: stopping');
    await handler.close();
    await actions.stop();
    return exitCodes.done;
  } catch (error) {
    if (!(error instanceof ChargenError)) throw error;
    logger.error(error.message);
    return error.code === 'gemini-call-failed' ? exitCodes.error : exitCodes.usage;
  } finally {
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((done) => server?.close(() => done()));
    }
  }
}
