import { createPermitQueue } from '../permit-queue.ts';

/**
 * At most `limit` batch jobs followed at once (created or adopted, then polled to their end and collected), whichever
 * executor call, stage or chunk of the run they belong to: `gemini.maxJobsInFlight` is a limit of the backend, not of
 * one call, so every executor of a run on one backend shares one limiter. Slots are given in the order asked.
 */
export interface JobLimiter {
  run<Result>(work: () => Promise<Result>): Promise<Result>;
  /** Jobs holding a slot now. */
  countActive(): number;
  /** Jobs waiting for a slot now. */
  countWaiting(): number;
}

export function createJobLimiter(options: { limit: number }): JobLimiter {
  const slots = createPermitQueue({ capacity: Math.max(1, options.limit) });
  return {
    async run(work) {
      const release = await slots.acquire();
      try {
        return await work();
      } finally {
        release();
      }
    },
    countActive: () => slots.countHolders(),
    countWaiting: () => slots.countWaiting(),
  };
}
