import { resolve } from 'node:path';
import { UsageError } from '../../lib/errors.ts';
import { readCachedKeys } from '../../lib/gemini/result-cache.ts';
import { backendStateDirectory } from '../../lib/store/workspace-layout.ts';
import { readRegenerateQueueStore, withRegenerateQueueStore, type RegenerateBatch, type RegenerateItem } from '../../lib/store/regenerate-queue-store.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { listPromptReferences, type GenerationPrompt } from '../../schemas/generation-prompt.ts';
import { resolveBackendIdentity } from '../connect-backend.ts';
import { estimateCost, findMissingPrice, imageInputTokens } from '../estimate-run.ts';
import { requireWorkspace } from '../workspace-status.ts';
import { composeRegenerateRequest, type RegenerateEdits } from './compose-regenerate-prompt.ts';
import { createWorkspaceLease, type WorkspaceLease } from './workspace-lease.ts';

/** The executor stage of the artist's requests: their own jobs, cache and dead letters. */
export const regenerateStage = 'regenerate';
const autoSubmitSetting = 'regenerate.autoSubmitAt';

export interface RegenerateOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  config: ChargenConfig;
  now: () => number;
  /** The process's hold on the workspace lock (the UI shares one); a lock of its own when absent. */
  lease?: WorkspaceLease;
}

/** Runs `work` holding the workspace lock, as every `chargen` command that changes the workspace does. */
function holdWorkspace<T>(options: RegenerateOptions, command: string, work: () => Promise<T>): Promise<T> {
  const lease = options.lease ?? createWorkspaceLease({ directory: workspaceOf(options), now: options.now });
  return lease.hold(command, work);
}

/** What one request costs: at batch prices, at full price through the sync path, or nothing when answered before. */
export interface ItemCost {
  batchUsd: number;
  syncUsd: number;
  /** Answered before (this workspace's `regenerate` cache): asked again, it is taken from there at no cost. */
  answered: boolean;
  /** The price table lacks this model (or size): the figures are 0 and not to be trusted. */
  unpriced?: string;
}

export type QueuedItem = RegenerateItem & { cost: ItemCost };

export interface RegenerateQueueView {
  items: QueuedItem[];
  batches: RegenerateBatch[];
  /** Queued requests (not yet sent), and what they cost as one batch. */
  queued: { count: number; batchUsd: number };
  /** The queue's size at which it is sent by itself; absent: only by "Submit batch". */
  autoSubmitAt?: number;
}

function workspaceOf(options: { cwd: string; config: ChargenConfig }): string {
  return resolve(options.cwd, options.config.workdir);
}

/** Pure: what asking one image costs; batch prices are half the interactive ones the sync path pays. */
export function estimateItemCost(options: { prompt: GenerationPrompt; config: ChargenConfig; answered: boolean }): ItemCost {
  const { prompt, config } = options;
  const references = listPromptReferences(prompt).length;
  const batchUsd = estimateCost({ kind: 'image', count: 1, model: prompt.model, imageSize: prompt.imageConfig.imageSize, prices: config.prices, usage: config.usageEstimate, extraInputTokens: Math.max(0, references - 1) * imageInputTokens });
  const unpriced = findMissingPrice({ kind: 'image', model: prompt.model, imageSize: prompt.imageConfig.imageSize, prices: config.prices });
  return { batchUsd: options.answered ? 0 : batchUsd, syncUsd: options.answered ? 0 : batchUsd * 2, answered: options.answered, ...(unpriced ? { unpriced } : {}) };
}

async function readAnsweredKeys(options: RegenerateOptions): Promise<Set<string>> {
  const workspaceDirectory = workspaceOf(options);
  const identity = await resolveBackendIdentity({ choice: options.config.backend, vertex: options.config.vertex, cwd: options.cwd, env: options.env, workspaceDirectory });
  return readCachedKeys({ stateDirectory: backendStateDirectory(workspaceDirectory, identity), stage: regenerateStage });
}

/**
 * Adds an image, as the artist changed it, to the workspace's queue (one transaction): nothing is sent yet. `source`
 * and `variant` name the image as the gallery does. Returns the item with its cost, and how many are queued now.
 */
export async function addToRegenerateQueue(options: RegenerateOptions & { source: string; variant: number; edits: RegenerateEdits }): Promise<{ item: QueuedItem; queued: number; autoSubmitAt?: number }> {
  const workspaceDirectory = workspaceOf(options);
  await requireWorkspace(workspaceDirectory);
  const composed = await composeRegenerateRequest({ cwd: options.cwd, workspaceDirectory, config: options.config, source: options.source, variant: options.variant, edits: options.edits });
  const answered = await readAnsweredKeys(options);
  return holdWorkspace(options, 'ui: add to the regenerate queue', async () =>
    withRegenerateQueueStore({ workspaceDirectory, now: options.now }, (store) => {
      const item = store.add(composed);
      const autoSubmitAt = readAutoSubmitAt(store.readSetting(autoSubmitSetting));
      return { item: { ...item, cost: estimateItemCost({ prompt: item.prompt, config: options.config, answered: answered.has(item.requestKey) }) }, queued: store.countQueued(), ...(autoSubmitAt ? { autoSubmitAt } : {}) };
    }),
  );
}

/** Takes a queued image out of the queue; one already sent cannot be (its job is under way). */
export async function removeFromRegenerateQueue(options: RegenerateOptions & { id: number }): Promise<void> {
  const removed = await holdWorkspace(options, 'ui: remove from the regenerate queue', async () => withRegenerateQueueStore({ workspaceDirectory: workspaceOf(options), now: options.now }, (store) => store.remove(options.id)));
  if (!removed) throw new UsageError({ message: `id: no queued request ${options.id} (it was sent, or removed already)` });
}

function readAutoSubmitAt(value: string | undefined): number | undefined {
  const size = Number(value);
  return Number.isInteger(size) && size > 0 ? size : undefined;
}

/** The queue's size that sends it by itself (kept in the workspace), or none (undefined): only "Submit batch" sends it. */
export async function setAutoSubmitSize(options: RegenerateOptions & { size: number | undefined }): Promise<void> {
  if (options.size !== undefined && (!Number.isInteger(options.size) || options.size < 1 || options.size > 10_000)) throw new UsageError({ message: 'size: a whole number from 1 to 10000, or none' });
  await holdWorkspace(options, 'ui: set the regenerate queue size', async () =>
    withRegenerateQueueStore({ workspaceDirectory: workspaceOf(options), now: options.now }, (store) => store.writeSetting(autoSubmitSetting, options.size === undefined ? undefined : String(options.size))),
  );
}

/** The queue as the page shows it: its items with their costs, the last batches, and the size that sends it. */
export async function readRegenerateQueue(options: RegenerateOptions): Promise<RegenerateQueueView> {
  const answered = await readAnsweredKeys(options);
  const view = readRegenerateQueueStore({ workspaceDirectory: workspaceOf(options) }, (store) => {
    const items = store.list().map((item) => ({ ...item, cost: estimateItemCost({ prompt: item.prompt, config: options.config, answered: answered.has(item.requestKey) }) }));
    const queued = items.filter((item) => item.status === 'queued');
    const autoSubmitAt = readAutoSubmitAt(store.readSetting(autoSubmitSetting));
    return {
      items,
      batches: store.listBatches(10),
      queued: { count: queued.length, batchUsd: queued.reduce((sum, item) => sum + item.cost.batchUsd, 0) },
      ...(autoSubmitAt ? { autoSubmitAt } : {}),
    };
  });
  return view ?? { items: [], batches: [], queued: { count: 0, batchUsd: 0 } };
}
