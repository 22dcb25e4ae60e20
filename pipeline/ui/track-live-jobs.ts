import type { BatchJobView } from '../../lib/gemini/read-batch-job.ts';
import { mapWithConcurrency } from '../../lib/map-with-concurrency.ts';
import { isJobSettled } from '../workspace-status.ts';

export interface LiveJobTracker {
  /**
   * Asks the API, in the background, about those of these jobs not asked within the interval and not yet seen
   * ended; returns at once (the promise, for tests, settles when that round is over).
   */
  request(names: readonly string[]): Promise<void>;
  states(): ReadonlyMap<string, BatchJobView>;
  /** Why the latest look at some job failed, while it still fails: the page says its state may be old. */
  lastError(): string | undefined;
}

/**
 * The API's word on unsettled jobs, each asked no more often than `intervalMilliseconds`, a few at a time, each look
 * given up after `timeoutMilliseconds`: a slow or silent API makes the states old, never the page wait.
 */
export function createLiveJobTracker(options: {
  lookup: (name: string, signal: AbortSignal) => Promise<BatchJobView>;
  intervalMilliseconds: number;
  timeoutMilliseconds: number;
  concurrency: number;
  now: () => number;
}): LiveJobTracker {
  const states = new Map<string, BatchJobView>();
  const askedAt = new Map<string, number>();
  const errors = new Map<string, string>();
  let round: Promise<void> | undefined;

  async function lookUp(name: string): Promise<void> {
    askedAt.set(name, options.now());
    try {
      states.set(name, await options.lookup(name, AbortSignal.timeout(options.timeoutMilliseconds)));
      errors.delete(name);
    } catch (caught) {
      errors.set(name, (caught as Error).message);
    }
  }

  return {
    request(names) {
      if (round) return round;
      const due = names.filter((name) => {
        const last = askedAt.get(name);
        const seen = states.get(name);
        return !(seen && isJobSettled(seen.state)) && (last === undefined || options.now() - last >= options.intervalMilliseconds);
      });
      if (due.length === 0) return Promise.resolve();
      round = mapWithConcurrency({ items: due, concurrency: options.concurrency, work: lookUp }).then(
        () => undefined,
        () => undefined,
      );
      void round.finally(() => (round = undefined));
      return round;
    },
    states: () => states,
    lastError: () => errors.values().next().value,
  };
}
