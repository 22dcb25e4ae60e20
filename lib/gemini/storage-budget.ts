import { createPermitQueue } from '../permit-queue.ts';

/**
 * The bytes a run may hold on the Files API at once (`gemini.storageBudgetBytes`; a project holds 20 GB there): a
 * chunk reserves its images' bytes before it uploads them and gives them back once they are deleted. Reservations are
 * granted in the order asked; one larger than the whole budget is granted alone, when nothing else is held, rather
 * than never (see lib/permit-queue.ts).
 */
export interface StorageBudget {
  readonly budgetBytes: number;
  /** Waits until the bytes fit; resolves with the function that gives them back (once). */
  reserve(bytes: number): Promise<() => void>;
  reservedBytes(): number;
  /** The most ever reserved at once in this run. */
  peakBytes(): number;
}

export function createStorageBudget(options: { budgetBytes: number }): StorageBudget {
  const bytes = createPermitQueue({ capacity: options.budgetBytes });
  return {
    budgetBytes: options.budgetBytes,
    reserve: (size) => bytes.acquire(size),
    reservedBytes: () => bytes.heldPermits(),
    peakBytes: () => bytes.peakPermits(),
  };
}
