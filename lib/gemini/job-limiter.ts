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
  const limit = Math.max(1, options.limit);
  let active = 0;
  const waiting: (() => void)[] = [];
  const acquire = (): Promise<void> => {
    if (active < limit) {
      active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  // The slot passes straight to the next in line, so a late arrival never jumps the queue.
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else active -= 1;
  };
  return {
    async run(work) {
      await acquire();
      try {
        return await work();
      } finally {
        release();
      }
    },
    countActive: () => active,
    countWaiting: () => waiting.length,
  };
}
