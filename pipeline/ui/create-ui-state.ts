import type { BatchJobView } from '../../lib/gemini/read-batch-job.ts';
import { buildQueueView, type QueueView } from './build-queue-view.ts';
import type { UiActions } from './create-ui-actions.ts';
import type { RegenerateActions, RegenerateView } from './create-regenerate-actions.ts';
import { countGalleryItems, createGalleryIndex, readGalleryDetail, type RequestKeyOf, selectGalleryPage, type GalleryDetail, type GalleryItem, type GalleryStatus } from './list-gallery-items.ts';
import type { WorkspaceFiles, WorkspaceFilesReader } from './read-workspace-files.ts';
import { createLiveJobTracker } from './track-live-jobs.ts';

export interface UiStateOptions {
  workspaceDirectory: string;
  /** The workspace's files, each parsed again only when it changed. */
  reader: WorkspaceFilesReader;
  outputDirectory: string;
  backend: string;
  actions: UiActions;
  regenerate: RegenerateActions;
  /** Asks the API about one job; absent for the built-in emulator, whose jobs only its own run can see. */
  lookupJob?: (name: string, signal: AbortSignal) => Promise<BatchJobView>;
  jobPollMilliseconds: number;
  /** How long one look at a job may take before it is given up (and tried again next interval). */
  lookupTimeoutMilliseconds: number;
  now: () => number;
  /** This process, to tell its own lock from another run's. */
  pid: number;
  /** The key synthesize would give a prompt's request now (an image under another key is from an older prompt). */
  requestKeyOf: RequestKeyOf;
}

export interface UiState {
  readQueue(): Promise<QueueView & { liveError?: string; regenerate: RegenerateView }>;
  readGalleryPage(options: { status?: GalleryStatus; offset: number; limit: number }): Promise<{ total: number; offset: number; items: GalleryItem[] }>;
  readGalleryDetail(id: string): Promise<GalleryDetail | undefined>;
  findItem(id: string): Promise<{ item: GalleryItem; sidecar?: string } | undefined>;
  /** The images made (with their sidecars), as the output folder holds them: all, or one character's. */
  listOutputs(options?: { source?: string }): Promise<{ source: string; image: string; sidecar: string }[]>;
}

/** What the page asks for, read from the workspace each time (the UI keeps no state of its own). */
export function createUiState(options: UiStateOptions): UiState {
  const { reader } = options;
  const galleryIndex = createGalleryIndex({ requestKeyOf: options.requestKeyOf });
  const tracker = options.lookupJob
    ? createLiveJobTracker({ lookup: options.lookupJob, intervalMilliseconds: options.jobPollMilliseconds, timeoutMilliseconds: options.lookupTimeoutMilliseconds, concurrency: 4, now: options.now })
    : undefined;

  async function findItem(files: WorkspaceFiles, id: string) {
    const item = galleryIndex(files).find((candidate) => candidate.id === id);
    if (!item) return undefined;
    const sidecar = files.synthesis?.outputs.find((output) => output.key === id)?.sidecar;
    return { item, ...(sidecar ? { sidecar } : {}) };
  }

  return {
    async readQueue() {
      const files = await reader.read();
      if (tracker) {
        // Unsettled jobs, and jobs seen running that have finished since (one more look gets their final counts); the
        // answers show from the next read on.
        const seen = tracker.states();
        const open = files.jobs
          .filter(({ record }) => record.jobName && (record.status === 'submitted' || seen.has(record.jobName)))
          .map(({ record }) => record.jobName as string);
        void tracker.request(open);
      }
      const run = options.actions.view();
      const view = buildQueueView({
        files,
        workspaceDirectory: options.workspaceDirectory,
        backend: options.backend,
        live: tracker?.states() ?? new Map(),
        runStates: options.actions.runStates(),
        run: { pid: options.pid, ...run },
        gallery: countGalleryItems(galleryIndex(files)),
        cancel:
          options.backend === 'emulator'
            ? { allowed: false, reason: "the built-in emulator's jobs end with the run that made them" }
            : { allowed: true },
      });
      const liveError = tracker?.lastError();
      const regenerate = await options.regenerate.view();
      return { ...view, regenerate, ...(liveError ? { liveError } : {}) };
    },
    async readGalleryPage(page) {
      return selectGalleryPage(galleryIndex(await reader.read()), page);
    },
    async readGalleryDetail(id) {
      const files = await reader.read();
      const found = await findItem(files, id);
      if (!found) return undefined;
      return readGalleryDetail({ files, item: found.item, outputDirectory: options.outputDirectory, ...(found.sidecar ? { sidecar: found.sidecar } : {}) });
    },
    async findItem(id) {
      return findItem(await reader.read(), id);
    },
    async listOutputs(listOptions) {
      const outputs = (await reader.read()).synthesis?.outputs ?? [];
      return outputs.filter((output) => listOptions?.source === undefined || output.sourcePath === listOptions.source).map((output) => ({ source: output.sourcePath, image: output.image, sidecar: output.sidecar }));
    },
  };
}
