import { Storage } from '@google-cloud/storage';
import type { StorageRetry } from '../../lib/vertex/call-storage.ts';
import type { EmulatorAdmin } from './emulator-admin.ts';

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
