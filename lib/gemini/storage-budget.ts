/**
 * The bytes a run may hold on the Files API at once (`gemini.storageBudgetBytes`; a project holds 20 GB there): a
 * chunk reserves its images' bytes before it uploads them and gives them back once they are deleted. Reservations are
 * granted in the order asked; one larger than the whole budget is granted alone, when nothing else is held, rather
 * than never.
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
  let reserved = 0;
  let peak = 0;
  const waiting: { bytes: number; grant: () => void }[] = [];
  const fits = (bytes: number) => reserved === 0 || reserved + bytes <= options.budgetBytes;
  const take = (bytes: number): (() => void) => {
    reserved += bytes;
    peak = Math.max(peak, reserved);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      reserved -= bytes;
      grantWaiting();
    };
  };
  // First come, first served: a small reservation never overtakes a large one waiting before it.
  const grantWaiting = () => {
    while (waiting.length > 0 && fits((waiting[0] as { bytes: number }).bytes)) (waiting.shift() as { grant: () => void }).grant();
  };
  return {
    budgetBytes: options.budgetBytes,
    reserve(bytes) {
      if (waiting.length === 0 && fits(bytes)) return Promise.resolve(take(bytes));
      return new Promise((resolve) => waiting.push({ bytes, grant: () => resolve(take(bytes)) }));
    },
    reservedBytes: () => reserved,
    peakBytes: () => peak,
  };
}
