import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { internalError, invalidApiKey, missingApiKey, notFound } from './api-error.ts';
import { settleJob } from './batch-runner.ts';
import { createBatchStore } from './batch-store.ts';
import { createOffsetClock, createSystemClock, type Clock, type OffsetClock } from './clock.ts';
import { createEmptyStats, type EmulatorContext, type EmulatorStats, type Route } from './emulator-context.ts';
import { emulatorOptionsSchema, type EmulatorOptions, type EmulatorOptionsInput } from './emulator-options.ts';
import type { FaultConfig } from './fault-config.ts';
import { createFaultInjector } from './fault-injector.ts';
import { createFileStore } from './file-store.ts';
import { HttpRejection, sendError } from './http-io.ts';
import { negotiateGzip } from './negotiate-gzip.ts';
import { createAdminRoutes } from './routes/admin-routes.ts';
import { batchRoutes } from './routes/batch-routes.ts';
import { downloadRedirectRoute } from './routes/download-redirect-route.ts';
import { fileRoutes } from './routes/file-routes.ts';
import { modelInfoRoutes } from './routes/model-info-routes.ts';
import { modelRoutes } from './routes/model-routes.ts';

export interface EmulatorDependencies {
  clock?: Clock;
  /** Lowercase alphanumeric ids of the given length (12 for files, 36 for batches, as the real API's). */
  generateId?: (length: number) => string;
  sleep?: (milliseconds: number) => Promise<void>;
}

export interface Emulator {
  /** A plain node:http request handler: serve it on any server, on port 0 in tests. */
  handle(request: IncomingMessage, response: ServerResponse): void;
  clock: OffsetClock;
  stats(): EmulatorStats;
  setFaults(faults: FaultConfig): void;
  reset(): Promise<void>;
  /** Waits for batch jobs still writing their lines, then removes stored bytes. */
  close(): Promise<void>;
  options: EmulatorOptions;
}

const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';

function generateRandomId(length: number): string {
  const bytes = randomBytes(length);
  return Array.from(bytes, (byte) => alphabet[byte % alphabet.length]).join('');
}

function isDisconnect(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNABORTED';
}

function readApiKey(request: IncomingMessage, url: URL): string | undefined {
  const header = request.headers['x-goog-api-key'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  return fromHeader || url.searchParams.get('key') || undefined;
}

export function createEmulator(input: EmulatorOptionsInput = {}, dependencies: EmulatorDependencies = {}): Emulator {
  const options = emulatorOptionsSchema.parse(input);
  const ownsStorage = options.storageDirectory === undefined;
  const storageDirectory = options.storageDirectory ?? mkdtempSync(join(tmpdir(), 'chargen-emulator-'));
  const clock = createOffsetClock(dependencies.clock ?? createSystemClock());
  const generateId = dependencies.generateId ?? generateRandomId;
  const context: EmulatorContext = {
    options,
    clock,
    files: createFileStore({
      directory: storageDirectory,
      clock,
      generateId,
      timeToLiveMilliseconds: () => options.latency.fileTimeToLiveMilliseconds,
    }),
    batches: createBatchStore(),
    faults: createFaultInjector(options.faults),
    stats: createEmptyStats(),
    generateId,
    sleep: dependencies.sleep ?? ((milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds))),
    timings: () => options.latency,
    activeWork: new Set(),
    pollWaitMilliseconds: options.latency.pollWaitMilliseconds,
    scheduleAdvance: (milliseconds) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        void advanceJobs();
      }, milliseconds + 1);
      timer.unref();
      timers.add(timer);
    },
  };
  const timers = new Set<NodeJS.Timeout>();

  /** Starts the lines of jobs that have reached RUNNING and publishes finished ones, at every request. */
  const advanceJobs = async () => {
    await Promise.all(context.batches.all().map((job) => settleJob(context, job, { waitMilliseconds: context.pollWaitMilliseconds })));
  };
  const waitForJobs = async () => {
    for (const job of context.batches.all()) job.cancelTime ??= clock.now();
    while (context.activeWork.size > 0) await Promise.all([...context.activeWork]);
  };
  const reset = async () => {
    await waitForJobs();
    context.batches.clear();
    await context.files.clear();
    context.stats = createEmptyStats();
    context.faults.replace(options.faults);
    clock.resetOffset();
  };
  // First, so that with the quirk on the SDK's download URL is answered by the redirect, not by the download itself.
  const frontEndRoutes = options.quirks.redirectDownloads ? [downloadRedirectRoute] : [];
  const routes: Route[] = [...frontEndRoutes, ...fileRoutes, ...modelInfoRoutes, ...modelRoutes, ...batchRoutes, ...createAdminRoutes(reset)];

  const dispatch = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://emulator.invalid');
    await advanceJobs();
    let pathMatched = false;
    for (const route of routes) {
      const match = route.pattern.exec(url.pathname);
      if (!match) continue;
      pathMatched = true;
      if (route.method !== request.method) continue;
      // As a front end does, API answers (errors too) go out gzip-encoded to a client that accepts it; admin stays plain,
      // and so do upload answers: recorded from UploadServer with an explicit length, never encoded (maruel/genai
      // FileCRUD.yaml, 2026-05-29), while files.get/list/delete behind the same key came gzip-encoded.
      if (route.requiresKey && route.endpoint !== 'files.upload') negotiateGzip({ request, response, enabled: options.quirks.gzipResponses });
      if (route.requiresKey) {
        const key = readApiKey(request, url);
        if (!key) throw new HttpRejection(missingApiKey());
        if (options.apiKey !== undefined && key !== options.apiKey) throw new HttpRejection(invalidApiKey());
      }
      // An upload is one call however many chunks it takes: faults hit its start, not each chunk.
      const isUploadChunk = route.endpoint === 'files.upload' && url.searchParams.has('upload_id');
      if (route.endpoint && !isUploadChunk) {
        const delay = context.faults.delayFor(route.endpoint);
        if (delay > 0) await context.sleep(delay);
        const fault = context.faults.drawEndpointFault(route.endpoint, { model: match.groups?.['model'] });
        if (fault) throw new HttpRejection(fault);
      }
      const version = match[1] === 'v1' || match[1] === 'v1beta' ? match[1] : 'v1beta';
      const origin = `http://${request.headers.host ?? '127.0.0.1'}`;
      await route.handle(context, { request, response, url, version, parameters: { ...match.groups }, origin });
      return;
    }
    throw new HttpRejection(
      pathMatched
        ? { httpStatus: 405, status: 'UNIMPLEMENTED', message: `Method ${request.method ?? ''} is not allowed on ${url.pathname}.` }
        : notFound(`The requested URL ${url.pathname} was not found on this server.`),
    );
  };

  return {
    handle(request, response) {
      dispatch(request, response).catch((error: unknown) => {
        const clientWentAway = request.destroyed || response.destroyed || isDisconnect(error);
        if (!(error instanceof HttpRejection) && !clientWentAway) {
          // A bug in the emulator must look like a server error to the client, never like a hang.
          process.emitWarning(`chargen emulator: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
        }
        if (!request.complete) request.resume();
        if (response.headersSent) {
          response.destroy();
          return;
        }
        sendError(response, error instanceof HttpRejection ? error.status : internalError());
      });
    },
    clock,
    stats: () => context.stats,
    setFaults: (faults) => context.faults.replace(faults),
    reset,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await waitForJobs();
      await context.files.clear();
      if (ownsStorage) await rm(storageDirectory, { recursive: true, force: true });
    },
    options,
  };
}
