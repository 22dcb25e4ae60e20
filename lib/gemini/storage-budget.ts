import { createPermitQueue } from '../permit-queue.ts';

/**
 * The bytes a run may hold on the Files API at once (`gemini.storageBudgetBytes`; a project holds 20 GB there): a
 * chunk reserves its images' bytes before it uploads them and gives them back once they are deleted, and a batch job
 * reserves its request file's bytes before the upload and gives them back once the job has ended and the file is
 * deleted. Reservations are granted in the order asked; one larger than its part of the budget is granted alone, when
 * nothing else of that part is held, rather than never (see lib/permit-queue.ts).
 *
 * Images and request files draw on two parts of the budget, each a queue of its own: a chunk holds its images while
 * its jobs upload their request files, so with one queue two chunks holding the whole budget in images would each
 * wait for the other's bytes for ever. A request file's holder waits for nothing else once it holds them (its job
 * runs to its end), so neither part can wait on itself.
 */
export interface StorageBudget {
  readonly budgetBytes: number;
  /** The part of the budget for images; chunks are planned against it. */
  readonly imageBytes: number;
  /** The part for request files (the JSONL of batch jobs in flight). */
  readonly requestFileBytes: number;
  /** The part for turnaround sheets carried by their shots (synthesize.sheet; 0 without). */
  readonly sheetBytes: number;
  /** Waits until the images' bytes fit; resolves with the function that gives them back (once). */
  reserve(bytes: number): Promise<() => void>;
  /** Waits until a request file's bytes fit; resolves with the function that gives them back (once). */
  reserveRequestFile(bytes: number): Promise<() => void>;
  /** Waits until a chunk's turnaround sheets fit (uploaded for its shots, deleted once they are made). */
  reserveSheets(bytes: number): Promise<() => void>;
  /** Counts a request file an earlier run uploaded (its job resumed): held already, so counted at once, without waiting. */
  holdRequestFile(bytes: number): () => void;
  reservedBytes(): number;
  /** The most ever reserved at once in this run, images and request files together. */
  peakBytes(): number;
}

/**
 * The share of the budget for request files: a request line refers to its images by URI, so it is a few KB against
 * an image's hundreds, and an eighth holds the request files of every job in flight (16 jobs of 5,000 lines of about
 * 2 KB are 160 MB, against 1.25 GiB of the default 10 GiB budget).
 */
const requestFileShare = 1 / 8;

/**
 * The share for turnaround sheets, when a run makes them: a chunk holding its references reserves its sheets' bytes
 * once they are made (their size is known only then), from a part of their own so that it never waits on bytes other
 * chunks hold while they wait on it. A sheet holder waits on nothing but request files, whose holders wait on nothing.
 */
const sheetShare = 1 / 4;

export function createStorageBudget(options: { budgetBytes: number; sheets?: boolean }): StorageBudget {
  const requestFileBytes = Math.max(1, Math.floor(options.budgetBytes * requestFileShare));
  const sheetBytes = options.sheets ? Math.max(1, Math.floor(options.budgetBytes * sheetShare)) : 0;
  const imageBytes = Math.max(1, options.budgetBytes - requestFileBytes - sheetBytes);
  let peak = 0;
  const held = () => images.heldPermits() + requestFiles.heldPermits() + sheets.heldPermits();
  const notePeak = () => {
    peak = Math.max(peak, held());
  };
  const images = createPermitQueue({ capacity: imageBytes, onGrant: notePeak });
  const requestFiles = createPermitQueue({ capacity: requestFileBytes, onGrant: notePeak });
  const sheets = createPermitQueue({ capacity: Math.max(1, sheetBytes), onGrant: notePeak });
  return {
    budgetBytes: options.budgetBytes,
    imageBytes,
    requestFileBytes,
    sheetBytes,
    reserve: (bytes) => images.acquire(bytes),
    reserveRequestFile: (bytes) => requestFiles.acquire(bytes),
    reserveSheets: (bytes) => sheets.acquire(bytes),
    holdRequestFile: (bytes) => requestFiles.seize(bytes),
    reservedBytes: held,
    peakBytes: () => peak,
  };
}
