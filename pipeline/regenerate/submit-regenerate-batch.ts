import { basename, resolve } from 'node:path';
import { UsageError } from '../../lib/errors.ts';
import type { ExecutorEnvironment } from '../../lib/gemini/batch-executor.ts';
import type { Logger } from '../../lib/logger.ts';
import { readCheckpointStore } from '../../lib/store/checkpoint-store.ts';
import { withImageVersionStore } from '../../lib/store/image-version-store.ts';
import { openWorkspace } from '../../lib/store/open-workspace.ts';
import { withRegenerateQueueStore, type ItemResult, type RegenerateBatch, type RegenerateItem } from '../../lib/store/regenerate-queue-store.ts';
import { versionsDirectory } from '../../lib/store/workspace-layout.ts';
import { readAnalyzedImagePages } from '../../stages/analyze/analysis-checkpoint.ts';
import type { PendingEntry } from '../../stages/synthesize/core/plan-synthesis.ts';
import { requestAndPlace } from '../../stages/synthesize/synthesize-images.ts';
import { toSynthesisBackend } from '../../stages/synthesize/synthesize-images-options.ts';
import { createPipelineContext } from '../pipeline-context.ts';
import { requireWorkspace } from '../workspace-status.ts';
import type { RegenerateOptions } from './regenerate-queue.ts';
import { regenerateStage } from './regenerate-queue.ts';
import { keepPlacedOutputs, nameVersions } from './keep-versions.ts';
import { createWorkspaceLease, type WorkspaceLease } from './workspace-lease.ts';

export interface SubmitRegenerateOptions extends RegenerateOptions {
  logger: Logger;
  /** `batch`: the queue as one Batch API job (half price); `sync`: generateContent now, at full price ("Run now"). */
  mode: RegenerateBatch['mode'];
  /** Only these queued items (Run now sends one); all queued ones when absent. */
  ids?: readonly number[];
  /**
   * Whether batches a crash left `sending` go first (their jobs adopted). Default: yes, unless `ids` are given (Run now
   * sends its item at once, not after a batch that may take hours).
   */
  resume?: boolean;
  signal?: AbortSignal;
  environment?: Partial<ExecutorEnvironment>;
  /** The process's hold on the workspace lock (the UI shares one); a lock of its own when absent. */
  lease?: WorkspaceLease;
}

export interface BatchOutcome {
  batch: number;
  mode: RegenerateBatch['mode'];
  made: number;
  failed: number;
  message: string;
}

/**
 * Sends the queue (or some of it) through the executor the stages use, under the stage `regenerate`: its own cache,
 * so an answer paid for is never paid again, and its own job records, so a batch a crash left `sending` is sent
 * again first and its job adopted, never made twice. Each image becomes a new version in the workspace's versions
 * folder, with its sidecar; nothing in the output folder changes. Holds the workspace lock throughout.
 */
export async function submitRegenerateBatch(options: SubmitRegenerateOptions): Promise<BatchOutcome[]> {
  const workspaceDirectory = resolve(options.cwd, options.config.workdir);
  await requireWorkspace(workspaceDirectory);
  const lease = options.lease ?? createWorkspaceLease({ directory: workspaceDirectory, now: options.now });
  return lease.hold(`ui: ${options.mode === 'sync' ? 'run now' : 'submit batch'}`, async () => {
    const store = { workspaceDirectory, now: options.now };
    const resume = options.resume ?? options.ids === undefined;
    const resumed = resume ? withRegenerateQueueStore(store, (queue) => queue.listSending()) : [];
    const started = withRegenerateQueueStore(store, (queue) => queue.startBatch({ mode: options.mode, ...(options.ids ? { ids: options.ids } : {}) }));
    if (resumed.length === 0 && !started) throw new UsageError({ message: options.ids ? `id: no queued request ${options.ids.join(', ')}` : 'queue: nothing is queued' });
    const outcomes: BatchOutcome[] = [];
    for (const sending of [...resumed, ...(started ? [started] : [])]) outcomes.push(await sendBatch({ ...options, workspaceDirectory, ...sending }));
    return outcomes;
  });
}

/** One batch, start to end: its requests sent (or adopted), each answer kept as a version, the batch marked done. */
async function sendBatch(options: SubmitRegenerateOptions & { workspaceDirectory: string; batch: RegenerateBatch; items: RegenerateItem[] }): Promise<BatchOutcome> {
  const { config, workspaceDirectory, batch, items } = options;
  const results = new Map<number, ItemResult>();
  const folders = { input: resolve(options.cwd, config.input), output: resolve(options.cwd, config.out), workspace: workspaceDirectory };
  const versions = versionsDirectory(workspaceDirectory);
  // The run's outputs of these entries are kept as versions first: the artist compares the new ones with them.
  await keepPlacedOutputs({ workspaceDirectory, outputDirectory: folders.output, entries: items.map((item) => item.entry), now: options.now });
  const { pending, known } = withImageVersionStore({ workspaceDirectory, now: options.now }, (store) => nameVersions({ store, items }));
  for (const [id, version] of known) results.set(id, { status: 'done', version });
  const failures = new Map<string, string>();
  if (pending.length > 0) {
    const workspace = await openWorkspace({ directory: workspaceDirectory, now: options.now });
    const signal = options.signal ?? new AbortController().signal;
    const context = await createPipelineContext({ cwd: options.cwd, env: options.env, config: { ...config, mode: batch.mode }, logger: options.logger, workspace, signal, detach: false, ...(options.environment ? { environment: options.environment } : {}) });
    try {
      const backend = toSynthesisBackend(await context.connect());
      const records = new Map((readCheckpointStore(workspaceDirectory, (checkpoints) => [...readAnalyzedImagePages(checkpoints)].flat()) ?? []).map((entry) => [entry.sourcePath, entry.record]));
      const { placed } = await requestAndPlace({
        prompts: pending.map(({ entry }) => entry.prompt),
        records,
        settings: config.synthesize,
        folders,
        backend,
        logger: options.logger,
        stage: regenerateStage,
        pending: pending.map(({ entry }) => entry),
        outputDirectory: versions,
        warnings: [],
        fail: (entry, reason) => {
          failures.set(entry.baseName, reason);
          options.logger.warn(`regenerate: ${entry.baseName}: ${reason}`);
        },
      });
      recordVersions({ workspaceDirectory, now: options.now, pending, placed: placed.map((output) => ({ baseName: basename(output.image).replace(/\.[^.]+$/, ''), image: basename(output.image), sidecar: basename(output.sidecar) })), results });
    } finally {
      await context.close();
    }
  }
  for (const { entry, items: waiting } of pending) {
    for (const item of waiting) if (!results.has(item.id)) results.set(item.id, { status: 'failed', reason: failures.get(entry.baseName) ?? 'not answered' });
  }
  const made = [...results.values()].filter((result) => result.status === 'done').length;
  const message = `${made} of ${items.length} ${items.length === 1 ? 'image' : 'images'} made${made < items.length ? `, ${items.length - made} failed` : ''} (${batch.mode === 'sync' ? 'run now' : 'batch'} ${batch.id})`;
  withRegenerateQueueStore({ workspaceDirectory, now: options.now }, (queue) => queue.finishBatch({ batch: batch.id, results, message }));
  options.logger.info(`regenerate: ${message}`);
  return { batch: batch.id, mode: batch.mode, made, failed: items.length - made, message };
}

function recordVersions(options: {
  workspaceDirectory: string;
  now: () => number;
  pending: readonly { entry: PendingEntry; label: string; items: readonly RegenerateItem[] }[];
  placed: readonly { baseName: string; image: string; sidecar: string }[];
  results: Map<number, ItemResult>;
}): void {
  const byName = new Map(options.placed.map((output) => [output.baseName, output]));
  withImageVersionStore({ workspaceDirectory: options.workspaceDirectory, now: options.now }, (store) => {
    for (const { entry, label, items } of options.pending) {
      const output = byName.get(entry.baseName);
      const first = items[0];
      if (!output || !first) continue;
      const version = store.add({ entry: first.entry, sourcePath: entry.prompt.sourceImage.path, variant: entry.prompt.variant, requestKey: entry.key, image: output.image, sidecar: output.sidecar, label });
      for (const item of items) options.results.set(item.id, { status: 'done', version: version.id });
    }
  });
}

