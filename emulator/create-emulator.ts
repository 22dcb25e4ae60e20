import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { advanceJobs, waitForJobs } from './batch-runner.ts';
import { createBatchStore } from './batch-store.ts';
import { createOffsetClock, createSystemClock, type Clock, type OffsetClock } from './clock.ts';
import { answerFailure, dispatchRequest } from './dispatch-request.ts';
import { createEmptyStats, type EmulatorContext, type EmulatorStats, type Route } from './emulator-context.ts';
import { emulatorOptionsSchema, type EmulatorOptions, type EmulatorOptionsInput } from './emulator-options.ts';
import type { FaultConfig } from './fault-config.ts';
import { createFaultInjector } from './fault-injector.ts';
import { createFileStore } from './file-store.ts';
import { createAdminRoutes } from './routes/admin-routes.ts';
import { batchRoutes } from './routes/batch-routes.ts';
import { downloadRedirectRoute } from './routes/download-redirect-route.ts';
import { fileRoutes } from './routes/file-routes.ts';
import { modelInfoRoutes } from './routes/model-info-routes.ts';
import { modelRoutes } from './routes/model-routes.ts';
import { predictionJobRoutes } from './routes/prediction-job-routes.ts';
import { publisherModelInfoRoutes } from './routes/publisher-model-info-routes.ts';
import { publisherModelRoutes } from './routes/publisher-model-routes.ts';
import { storageBucketRoutes } from './routes/storage-bucket-routes.ts';
import { storageObjectRoutes } from './routes/storage-object-routes.ts';
import { storageUploadRoutes } from './routes/storage-upload-routes.ts';
import { createObjectStore } from './storage/object-store.ts';
import { createUploadSessions } from './storage/upload-sessions.ts';
import { advancePredictionJobs } from './vertex/run-prediction-job.ts';

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

interface EmulatorParts {
  options: EmulatorOptions;
  storageDirectory: string;
  dependencies: EmulatorDependencies;
  /** The timers that move jobs along on a real clock; close clears them. */
  timers: Set<NodeJS.Timeout>;
}

function createEmulatorContext(parts: EmulatorParts): EmulatorContext {
  const { options, dependencies, timers } = parts;
  const clock = createOffsetClock(dependencies.clock ?? createSystemClock());
  const generateId = dependencies.generateId ?? generateRandomId;
  const context: EmulatorContext = {
    options,
    clock,
    files: createFileStore({
      directory: parts.storageDirectory,
      clock,
      generateId,
      timeToLiveMilliseconds: () => options.latency.fileTimeToLiveMilliseconds,
    }),
    storage: {
      objects: createObjectStore({ directory: parts.storageDirectory, clock }),
      uploads: createUploadSessions({ directory: parts.storageDirectory, generateId }),
    },
    batches: createBatchStore(),
    predictionJobs: createBatchStore(),
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
        void advanceJobs(context);
        void advancePredictionJobs(context);
      }, milliseconds + 1);
      timer.unref();
      timers.add(timer);
    },
  };
  return context;
}

async function clearStorage(context: EmulatorContext): Promise<void> {
  await context.files.clear();
  await context.storage.uploads.clear();
  await context.storage.objects.clear();
}

/** Back to a fresh emulator on the same storage: no jobs, no files, zero stats, the configured faults, no clock offset. */
async function resetEmulator(context: EmulatorContext): Promise<void> {
  await waitForJobs(context);
  context.batches.clear();
  context.predictionJobs.clear();
  await clearStorage(context);
  context.stats = createEmptyStats();
  context.faults.replace(context.options.faults);
  context.clock.resetOffset();
}

function listRoutes(options: { emulatorOptions: EmulatorOptions; reset: () => Promise<void> }): Route[] {
  // First, so that with the quirk on the SDK's download URL is answered by the redirect, not by the download itself.
  const frontEndRoutes = options.emulatorOptions.quirks.redirectDownloads ? [downloadRedirectRoute] : [];
  return [...frontEndRoutes, ...fileRoutes, ...modelInfoRoutes, ...modelRoutes, ...batchRoutes, ...predictionJobRoutes, ...publisherModelRoutes, ...publisherModelInfoRoutes, ...storageUploadRoutes, ...storageBucketRoutes, ...storageObjectRoutes, ...createAdminRoutes(options.reset)];
}

export function createEmulator(input: EmulatorOptionsInput = {}, dependencies: EmulatorDependencies = {}): Emulator {
  const options = emulatorOptionsSchema.parse(input);
  const ownsStorage = options.storageDirectory === undefined;
  const storageDirectory = options.storageDirectory ?? mkdtempSync(join(tmpdir(), 'chargen-emulator-'));
  const timers = new Set<NodeJS.Timeout>();
  const context = createEmulatorContext({ options, storageDirectory, dependencies, timers });
  const reset = () => resetEmulator(context);
  const routes = listRoutes({ emulatorOptions: options, reset });
  return {
    handle(request, response) {
      dispatchRequest({ context, routes, request, response }).catch((error: unknown) => answerFailure({ request, response, error }));
    },
    clock: context.clock,
    stats: () => context.stats,
    setFaults: (faults) => context.faults.replace(faults),
    reset,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await waitForJobs(context);
      await clearStorage(context);
      if (ownsStorage) await rm(storageDirectory, { recursive: true, force: true });
    },
    options,
  };
}
