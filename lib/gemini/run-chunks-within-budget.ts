import { JobsPendingError } from '../errors.ts';
import { mapWithConcurrency } from '../map-with-concurrency.ts';
import { splitIntoChunks } from '../split-into-chunks.ts';
import type { ConnectedBackend } from './connected-backend.ts';
import type { StorageBudget } from './storage-budget.ts';

/** How one chunk ended: its result, or the error that stopped it. */
export type ChunkEnd<Result> = { status: 'done'; result: Result } | { status: 'stopped'; error: unknown };

export interface ChunksWithinBudgetOptions<Item, Result> {
  /** In their order; a chunk is at most `maxItemsPerChunk` of them, its bytes at most half the images' part of the budget. */
  items: readonly Item[];
  maxItemsPerChunk: number;
  /** Chunks under way at once (gemini.maxJobsInFlight: a chunk has at least one job in flight). */
  concurrency: number;
  storage: Pick<StorageBudget, 'reserve' | 'imageBytes'>;
  /** The bytes an item puts on the Files API at most. */
  sizeOf: (item: Item) => number;
  /** The uploads (sha256) an item's requests carry, to know which a chunk may delete once it is through. */
  uploadsOf: (item: Item) => Iterable<string>;
  /** Deletes uploads from the Files API (the backend's releaseUploads). */
  releaseUploads: (sha256s: string[]) => Promise<unknown>;
  /** One chunk's work; its label (`chunk 2 of 8`) is said after each stage line when there is more than one chunk. */
  work: (chunk: readonly Item[], place: { index: number; label: string | undefined }) => Promise<Result>;
}

/**
 * Which uploads a chunk may delete once it is through: an upload two chunks share (a picture in two folders) stays
 * until the last of them is through.
 */
function createUploadRelease<Item>(chunks: readonly (readonly Item[])[], uploadsOf: (item: Item) => Iterable<string>): (chunk: readonly Item[]) => string[] {
  const holders = new Map<string, number>();
  const uploadsOfChunk = (chunk: readonly Item[]) => new Set(chunk.flatMap((item) => [...uploadsOf(item)]));
  for (const chunk of chunks) for (const sha of uploadsOfChunk(chunk)) holders.set(sha, (holders.get(sha) ?? 0) + 1);
  return (chunk) =>
    [...uploadsOfChunk(chunk)].filter((sha) => {
      const left = (holders.get(sha) ?? 1) - 1;
      holders.set(sha, left);
      return left === 0;
    });
}

/**
 * Cuts the items into chunks and runs them within the Files API storage budget: each reserves its items' bytes before its uploads and gives them
 * back once its work is done and the uploads no later chunk needs are deleted. A chunk that stops keeps its uploads (a
 * job left running may read them; the run's end deletes what is left), so no chunk starts after one has stopped, for
 * whatever reason: with `--detach` the chunks under way are submitted and the run ends, and the next run goes on
 * from them, within the budget. Chunks already under way go on. Results keep the chunks' order.
 */
export async function runChunksWithinBudget<Item, Result>(options: ChunksWithinBudgetOptions<Item, Result>): Promise<ChunkEnd<Result>[]> {
  // Half the images' part of the budget a chunk: one chunk's images go up while another's are still held by its jobs.
  const chunks = splitIntoChunks({ items: options.items, maxItems: options.maxItemsPerChunk, maxBytes: options.storage.imageBytes / 2, sizeOf: options.sizeOf });
  const releasable = createUploadRelease(chunks, options.uploadsOf);
  let stopped = false;
  const count = chunks.length;
  return mapWithConcurrency({
    items: chunks,
    concurrency: options.concurrency,
    work: async (chunk, index): Promise<ChunkEnd<Result>> => {
      if (stopped) return { status: 'stopped', error: undefined };
      const giveBack = await options.storage.reserve(chunk.reduce((sum, item) => sum + options.sizeOf(item), 0));
      try {
        // The wait for the budget may have outlasted a chunk that stopped meanwhile.
        if (stopped) return { status: 'stopped', error: undefined };
        const result = await options.work(chunk, { index, label: count > 1 ? `chunk ${index + 1} of ${count}` : undefined });
        await options.releaseUploads(releasable(chunk));
        return { status: 'done', result };
      } catch (error) {
        stopped = true;
        return { status: 'stopped', error };
      } finally {
        giveBack();
      }
    },
  });
}

/** What a stage run on its own needs to cut its work into chunks: the run's storage budget and its limits. */
export interface StageChunking {
  storage: Pick<StorageBudget, 'reserve' | 'imageBytes'>;
  releaseUploads: (sha256s: string[]) => Promise<unknown>;
  /** Characters a chunk (gemini.chunkMaxLines) and chunks under way at once (gemini.maxJobsInFlight). */
  maxCharacters: number;
  concurrency: number;
}

/**
 * The done chunks' results, in order; or, when a chunk stopped, the error to stop with: the first that stops for good,
 * else the chunks' jobs left running, summed into one.
 */
export function takeChunkResults<Result>(ends: readonly ChunkEnd<Result>[], options: { stage: string }): Result[] {
  const errors = ends.flatMap((end) => (end.status === 'stopped' && end.error !== undefined ? [end.error] : []));
  const stop = errors.find((error) => !(error instanceof JobsPendingError));
  if (stop !== undefined) throw stop;
  const pendingJobs = errors.reduce((sum: number, error) => sum + (error as JobsPendingError).pendingJobs, 0);
  if (errors.length > 0) throw new JobsPendingError({ stage: options.stage, pendingJobs });
  return ends.flatMap((end) => (end.status === 'done' ? [end.result] : []));
}

/** How a stage run on its own cuts its work, from the run's connected backend (its budget, settings and uploads). */
export function toStageChunking(backend: Pick<ConnectedBackend, 'storage' | 'settings' | 'releaseUploads'>): StageChunking {
  return { storage: backend.storage, releaseUploads: (sha256s) => backend.releaseUploads(sha256s), maxCharacters: backend.settings.chunkMaxLines, concurrency: backend.settings.maxJobsInFlight };
}
