/**
 * A budget of permits (jobs, bytes, file places) handed out first come, first served. One primitive for the run's
 * limits, so that each does not write its own waiting, and none lets a late caller past an earlier one.
 *
 * - Fair: a request is granted only when every request made before it has been. Permits given back are handed on in
 *   the same call, before the caller's code goes on, so a request made right after a release finds them taken and
 *   queues behind the waiters instead of slipping in before their promises settle.
 * - Weighted: a request asks for any number of permits; a small one waits behind a large one asked earlier even when
 *   it would fit (otherwise a stream of small requests could hold a large one back for ever).
 * - Larger than the whole capacity: admitted alone, once nothing else is held, rather than refused. One image or
 *   chunk over the budget is still work the run must do; refusing it would stop the run for good, while admitting it
 *   alone holds no more than that one item needs, the least any run doing it could hold. Requests behind it wait.
 * - The release function is idempotent: a second call (a `finally` after an explicit release) gives nothing back.
 *
 * Not abort-aware: every holder of the run's limits ends promptly when the run is interrupted (its waits are
 * interruptible), which hands the permits on, and the next holder checks the run's signal before it starts.
 */
export interface PermitQueue {
  readonly capacity: number;
  /** Waits its turn until `permits` (default 1) fit; resolves with the function that gives them back (once). */
  acquire(permits?: number): Promise<() => void>;
  /**
   * Counts permits already in use outside the queue's say (a file an earlier run uploaded is on the API whether or not
   * it fits): taken at once, past the capacity if need be, so later requests wait until they are given back.
   */
  seize(permits: number): () => void;
  /** Permits held now. */
  heldPermits(): number;
  /** The most permits held at once so far. */
  peakPermits(): number;
  /** Requests holding permits now. */
  countHolders(): number;
  /** Requests waiting now. */
  countWaiting(): number;
}

interface Waiter {
  permits: number;
  grant: (release: () => void) => void;
}

/** `onGrant`: called each time a request is granted, once its permits count as held (a budget of several queues tracks its peak by it). */
export function createPermitQueue(options: { capacity: number; onGrant?: () => void }): PermitQueue {
  const { capacity } = options;
  if (!(capacity > 0)) throw new RangeError(`a permit queue needs a capacity above 0, not ${capacity}`);
  let held = 0;
  let holders = 0;
  let peak = 0;
  const waiting: Waiter[] = [];
  const fits = (permits: number) => holders === 0 || held + permits <= capacity;
  const take = (permits: number): (() => void) => {
    held += permits;
    holders += 1;
    peak = Math.max(peak, held);
    options.onGrant?.();
    let given = false;
    return () => {
      if (given) return;
      given = true;
      held -= permits;
      holders -= 1;
      grantWaiting();
    };
  };
  const grantWaiting = () => {
    for (let next = waiting[0]; next !== undefined && fits(next.permits); next = waiting[0]) {
      waiting.shift();
      next.grant(take(next.permits));
    }
  };
  return {
    capacity,
    acquire(permits = 1) {
      if (!Number.isFinite(permits) || permits < 0) return Promise.reject(new RangeError(`permits must be a finite number of 0 or more, not ${permits}`));
      if (waiting.length === 0 && fits(permits)) return Promise.resolve(take(permits));
      return new Promise((grant) => waiting.push({ permits, grant }));
    },
    seize(permits) {
      if (!Number.isFinite(permits) || permits < 0) throw new RangeError(`permits must be a finite number of 0 or more, not ${permits}`);
      return take(permits);
    },
    heldPermits: () => held,
    peakPermits: () => peak,
    countHolders: () => holders,
    countWaiting: () => waiting.length,
  };
}
