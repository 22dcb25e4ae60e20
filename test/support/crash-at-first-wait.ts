import { InterruptedError } from '../../lib/errors.ts';

/**
 * An environment whose first wait (the first poll after a batch job exists) stops the caller as a kill would: its
 * signal is aborted and the wait throws, so the job and its records are left for a later run to adopt.
 */
export function createCrashAtFirstWait(): { signal: AbortSignal; environment: { sleep: () => Promise<never> } } {
  const stop = new AbortController();
  return {
    signal: stop.signal,
    environment: {
      sleep: async () => {
        stop.abort();
        throw new InterruptedError();
      },
    },
  };
}
