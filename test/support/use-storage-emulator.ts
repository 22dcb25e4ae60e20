import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { StorageRetry } from '../../lib/vertex/call-storage.ts';
import { createEmulatorAdmin, type EmulatorAdmin } from './emulator-admin.ts';
import { startTestEmulator, type TestEmulator } from './start-test-emulator.ts';

export interface StorageEmulator {
  emulator: TestEmulator;
  admin: EmulatorAdmin;
  /** The real client on the emulator's Cloud Storage (openTestStorage). */
  storage: Storage;
  /** A folder of the suite's own for local files, removed at its end. */
  directory: string;
}

/**
 * A suite's emulator (served on port 0) and Cloud Storage client, set up once for the suite and reset (files, objects,
 * faults, counters) before each test. Read its members inside tests and hooks: they are set in beforeAll.
 */
export function useStorageEmulator(): StorageEmulator {
  const context = {} as StorageEmulator;
  beforeAll(async () => {
    context.emulator = await startTestEmulator();
    context.admin = createEmulatorAdmin(context.emulator.baseUrl);
    context.storage = openTestStorage(context.emulator.baseUrl);
    context.directory = await mkdtemp(join(tmpdir(), 'chargen-vertex-'));
  });
  beforeEach(async () => context.admin.reset());
  afterAll(async () => {
    await context.emulator.close();
    await rm(context.directory, { recursive: true, force: true });
  });
  return context;
}

/** The real client on the emulator's Cloud Storage, its own retries off, so chargen's policy is the one retrying. */
export function openTestStorage(baseUrl: string): Storage {
  return new Storage({ apiEndpoint: baseUrl, projectId: 'test-project', retryOptions: { autoRetry: false } });
}

/**
 * chargen's retry policy without waiting; each wait between attempts is counted and, with `clearFaults`, clears the
 * emulator's faults, so a fault set at 100% hits exactly the first attempt of every call in flight.
 */
export function createCountingRetry(options: { admin?: EmulatorAdmin; clearFaults?: boolean } = {}): StorageRetry & { waits: () => number } {
  let waits = 0;
  return {
    policy: { attempts: 4, initialDelayMilliseconds: 1, maxDelayMilliseconds: 1 },
    environment: {
      random: () => 0,
      sleep: async () => {
        waits += 1;
        if (options.clearFaults) await options.admin?.replaceFaults({});
      },
    },
    waits: () => waits,
  };
}
