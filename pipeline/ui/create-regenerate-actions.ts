import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { ChargenError, UsageError, WorkspaceLockedError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { analysisFieldNames } from '../../schemas/analysis.ts';
import { aspectRatios } from '../../schemas/generation-prompt.ts';
import { listShots } from '../../schemas/shot-settings.ts';
import { readLockHolder } from '../../lib/store/workspace-lock.ts';
import { withRegenerateQueueStore } from '../../lib/store/regenerate-queue-store.ts';
import type { RegenerateEdits } from '../regenerate/compose-regenerate-prompt.ts';
import { chooseVersion } from '../regenerate/choose-version.ts';
import { findVersionImage, listImageVersions, type VersionView } from '../regenerate/list-image-versions.ts';
import { addToRegenerateQueue, readRegenerateQueue, removeFromRegenerateQueue, setAutoSubmitSize, type QueuedItem, type RegenerateQueueView } from '../regenerate/regenerate-queue.ts';
import { submitRegenerateBatch, type SubmitRegenerateOptions } from '../regenerate/submit-regenerate-batch.ts';
import type { WorkspaceLease } from '../regenerate/workspace-lease.ts';

export interface RegenerateActions {
  add(request: { source: string; variant: number; edits: RegenerateEdits }): Promise<{ item: QueuedItem; queued: number; submitted: boolean }>;
  remove(id: number): Promise<void>;
  /** Sends the queue as one batch job, in the background; refused while a send from this page is under way. */
  submit(): Promise<void>;
  /** Sends one queued item now through the sync path (full price), in the background. */
  runNow(id: number): Promise<void>;
  setAutoSubmit(size: number | undefined): Promise<void>;
  choose(version: number): Promise<{ image: string; sidecar: string }>;
  versions(source: string, variant: number | undefined): Promise<VersionView[]>;
  /** A version's image in the versions folder. */
  versionImage(id: number): Promise<{ folder: string; file: string } | undefined>;
  view(): Promise<RegenerateView>;
  /** Sends again what a crash left `sending` (its jobs adopted); nothing when there is none or the workspace is busy. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** The queue as the page gets it, with what its regenerate form offers (the config's shots, the frames, the record's fields). */
export type RegenerateView = RegenerateQueueView & { sending: boolean; last?: string; pid: number; choices: { shots: string[]; aspectRatios: readonly string[]; fields: readonly string[] } };

export interface RegenerateActionsOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  loadConfig: () => Promise<ChargenConfig>;
  logger: Logger;
  workspaceDirectory: string;
  lease: WorkspaceLease;
  now: () => number;
  /** Told when a send ends, so open pages hear of it at once. */
  onChange?: () => void;
}

/** Refused at once, not in the background: a send of nothing, or of an item that is not queued. */
function checkSomethingToSend(options: RegenerateActionsOptions, ids: readonly number[] | undefined): void {
  withRegenerateQueueStore({ workspaceDirectory: options.workspaceDirectory, now: options.now }, (store) => {
    if (ids) {
      for (const id of ids) if (store.get(id)?.status !== 'queued') throw new UsageError({ message: `id: ${id} is not a queued request (sent already, or removed)` });
    } else if (store.countQueued() === 0 && store.listSending().length === 0) {
      throw new UsageError({ message: 'queue: nothing is queued; add an image with "Add to batch" first' });
    }
  });
}

/**
 * The page's side of the artist's loop: each action is the exported function a CLI would call (addToRegenerateQueue,
 * submitRegenerateBatch, chooseVersion, …) under the UI's shared hold on the workspace lock. One send at a time
 * from this page; the queue goes by itself when it reaches the size the artist set.
 */
export function createRegenerateActions(options: RegenerateActionsOptions): RegenerateActions {
  const base = async () => ({ cwd: options.cwd, env: options.env, config: await options.loadConfig(), now: options.now, lease: options.lease });
  let sending: { promise: Promise<void>; controller: AbortController } | undefined;
  let last: string | undefined;

  async function send(mode: SubmitRegenerateOptions['mode'], ids?: readonly number[]): Promise<void> {
    if (sending) throw new WorkspaceLockedError({ message: 'A batch from this page is still being sent; wait for it to finish (the page says when).' });
    checkSomethingToSend(options, ids);
    const claim = { promise: Promise.resolve(), controller: new AbortController() };
    sending = claim;
    let submitOptions: SubmitRegenerateOptions;
    try {
      const holder = await readLockHolder(options.workspaceDirectory);
      if (holder && holder.pid !== process.pid) throw new WorkspaceLockedError({ message: `The workspace is in use by process ${holder.pid} (\`chargen ${holder.command}\`, since ${holder.startedAt}); the queue is kept, send it when that is done.` });
      submitOptions = { ...(await base()), logger: options.logger, mode, ...(ids ? { ids } : {}), signal: claim.controller.signal };
    } catch (error) {
      sending = undefined;
      throw error;
    }
    claim.promise = submitRegenerateBatch(submitOptions)
      .then((outcomes) => void (last = outcomes.map((outcome) => outcome.message).join('; ')))
      .catch((error: unknown) => {
        last = error instanceof ChargenError ? error.message : `unexpected error: ${(error as Error).message}`;
        if (!(error instanceof ChargenError)) options.logger.error((error as Error).stack ?? String(error));
      })
      .finally(() => {
        if (sending === claim) sending = undefined;
        options.onChange?.();
        void checkAutoSubmit().catch(() => undefined);
      });
  }

  /** The queue at its size goes by itself (not while this page sends, nor while another process holds the workspace). */
  async function checkAutoSubmit(): Promise<boolean> {
    if (sending) return false;
    const view = await readRegenerateQueue(await base());
    if (view.autoSubmitAt === undefined || view.queued.count < view.autoSubmitAt) return false;
    await send('batch');
    return true;
  }

  return {
    async add(request) {
      const added = await addToRegenerateQueue({ ...(await base()), ...request });
      const submitted = await checkAutoSubmit().catch((error: unknown) => {
        last = (error as Error).message;
        return false;
      });
      return { item: added.item, queued: added.queued, submitted };
    },
    remove: async (id) => removeFromRegenerateQueue({ ...(await base()), id }),
    submit: () => send('batch'),
    runNow: (id) => send('sync', [id]),
    setAutoSubmit: async (size) => {
      await setAutoSubmitSize({ ...(await base()), size });
      await checkAutoSubmit().catch(() => undefined);
    },
    choose: async (version) => chooseVersion({ ...(await base()), version }),
    versions: async (source, variant) => listImageVersions({ ...(await base()), source, ...(variant !== undefined ? { variant } : {}) }),
    versionImage: async (id) => findVersionImage({ ...(await base()), id }),
    async view() {
      const options = await base();
      const view = await readRegenerateQueue(options);
      const shots = listShots(options.config.compile.variants).flatMap((shot) => (shot.name === undefined ? [] : [shot.name]));
      return { ...view, sending: sending !== undefined, pid: process.pid, ...(last !== undefined ? { last } : {}), choices: { shots, aspectRatios, fields: analysisFieldNames } };
    },
    async resume() {
      const waiting = withRegenerateQueueStore({ workspaceDirectory: options.workspaceDirectory, now: options.now }, (store) => store.listSending().length);
      if (waiting === 0 || sending) return;
      await send('batch').catch((error: unknown) => void (last = (error as Error).message));
    },
    async stop() {
      if (!sending) return;
      sending.controller.abort();
      await sending.promise;
    },
  };
}
