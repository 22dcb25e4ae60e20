import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import type { Logger } from '../../lib/logger.ts';
import { analysisFieldNames } from '../../schemas/analysis.ts';
import { aspectRatios } from '../../schemas/generation-prompt.ts';
import { listShots } from '../../schemas/shot-settings.ts';
import { createRegenerateSender } from './create-regenerate-sender.ts';
import type { RegenerateEdits } from '../regenerate/compose-regenerate-prompt.ts';
import { chooseVersion } from '../regenerate/choose-version.ts';
import { findVersionImage, listImageVersions, type VersionView } from '../regenerate/list-image-versions.ts';
import { addToRegenerateQueue, readRegenerateQueue, removeFromRegenerateQueue, setAutoSubmitSize, type QueuedItem, type RegenerateQueueView } from '../regenerate/regenerate-queue.ts';
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

/**
 * The page's side of the artist's loop: each action is the exported function a CLI would call (addToRegenerateQueue,
 * submitRegenerateBatch, chooseVersion, …) under the UI's shared hold on the workspace lock. One send at a time
 * from this page; the queue goes by itself when it reaches the size the artist set.
 */
export function createRegenerateActions(options: RegenerateActionsOptions): RegenerateActions {
  const base = async () => ({ cwd: options.cwd, env: options.env, config: await options.loadConfig(), now: options.now, lease: options.lease });
  const sender = createRegenerateSender({ ...options, base });

  return {
    async add(request) {
      const added = await addToRegenerateQueue({ ...(await base()), ...request });
      return { item: added.item, queued: added.queued, submitted: await sender.checkAutoSubmit() };
    },
    remove: async (id) => removeFromRegenerateQueue({ ...(await base()), id }),
    submit: () => sender.send('batch'),
    runNow: (id) => sender.send('sync', [id]),
    setAutoSubmit: async (size) => {
      await setAutoSubmitSize({ ...(await base()), size });
      await sender.checkAutoSubmit();
    },
    choose: async (version) => chooseVersion({ ...(await base()), version }),
    versions: async (source, variant) => listImageVersions({ ...(await base()), source, ...(variant !== undefined ? { variant } : {}) }),
    versionImage: async (id) => findVersionImage({ ...(await base()), id }),
    async view() {
      const current = await base();
      const view = await readRegenerateQueue(current);
      const shots = listShots(current.config.compile.variants).flatMap((shot) => (shot.name === undefined ? [] : [shot.name]));
      const last = sender.last();
      return { ...view, sending: sender.isSending(), pid: process.pid, ...(last !== undefined ? { last } : {}), choices: { shots, aspectRatios, fields: analysisFieldNames } };
    },
    resume: () => sender.resume(),
    stop: () => sender.stop(),
  };
}
