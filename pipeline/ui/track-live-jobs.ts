import type { BatchJobView } from '../gemini/read-batch-job.ts';

export interface LiveJobTracker {
  /** Asks the API about these jobs, each at most once per interval; a failed look keeps the last answer. */
  refresh(names: readonly string[]): Promise<void>;
  states(): ReadonlyMap<string, BatchJobView>;
  /** The last lookup that failed, for the page to say the states may be old. */
  lastError(): string | undefined;
}

/** The API's word on unsettled jobs, asked no more often than `intervalMilliseconds` per job. */
export function createLiveJobTracker(options: { lookup: (name: string) => Promise<BatchJobView>; intervalMilliseconds: number; now: () => number }): LiveJobTracker {
  const states = new Map<string, BatchJobView>();
  const askedAt = new Map<string, number>();
  let error: string | undefined;
  let running: Promise<void> | undefined;

  async function lookUp(names: readonly string[]): Promise<void> {
    for (const name of names) {
      const last = askedAt.get(name);
      if (last !== undefined && options.now() - last < options.intervalMilliseconds) continue;
      askedAt.set(name, options.now());
      try {
        states.set(name, await options.lookup(name));
        error = undefined;
      } catch (caught) {
        error = (caught as Error).message;
      }
    }
  }

  return {
    async refresh(names) {
      // One round at a time: a slow API must not pile up lookups from every open page.
      running ??= lookUp(names).finally(() => (running = undefined));
      await running;
    },
    states: () => states,
    lastError: () => error,
  };
}
