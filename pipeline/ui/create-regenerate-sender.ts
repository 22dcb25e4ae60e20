import { ChargenError, UsageError, WorkspaceLockedError } from '../../lib/errors.ts';
import { withRegenerateQueueStore } from '../../lib/store/regenerate-queue-store.ts';
import { readLockHolder } from '../../lib/store/workspace-lock.ts';
import { readRegenerateQueue, type RegenerateOptions } from '../regenerate/regenerate-queue.ts';
import { submitRegenerateBatch, type SubmitRegenerateOptions } from '../regenerate/submit-regenerate-batch.ts';
import type { Logger } from '../../lib/logger.ts';

/** Refused at once, not in the background: a send of nothing, or of an item that is not queued. */
function checkSomethingToSend(options: { workspaceDirectory: string; now: () => number }, ids: readonly number[] | undefined): void {
  withRegenerateQueueStore({ workspaceDirectory: options.workspaceDirectory, now: options.now }, (store) => {
    if (ids) {
      for (const id of ids) if (store.get(id)?.status !== 'queued') throw new UsageError({ message: `id: ${id} is not a queued request (sent already, or removed)` });
    } else if (store.countQueued() === 0 && store.listSending().length === 0) {
      throw new UsageError({ message: 'queue: nothing is queued; add an image with "Add to batch" first' });
    }
  });
}

/** The page's sends of the queue, one at a time, in the background: what is sending, and how the last one ended. */
export interface RegenerateSender {
  send(mode: SubmitRegenerateOptions['mode'], ids?: readonly number[]): Promise<void>;
  /** Sends the queue when it has reached the size the artist set; whether it did. Never throws (said in `last`). */
  checkAutoSubmit(): Promise<boolean>;
  /** Sends again what a crash left `sending` (its jobs adopted); nothing when there is none or a send is under way. */
  resume(): Promise<void>;
  isSending(): boolean;
  last(): string | undefined;
  stop(): Promise<void>;
}

export interface RegenerateSenderOptions {
  workspaceDirectory: string;
  logger: Logger;
  now: () => number;
  /** What each send is given: the folders, the config as it is now, the clock and the UI's hold on the lock. */
  base: () => Promise<RegenerateOptions>;
  /** Told when a send ends, so open pages hear of it at once. */
  onChange?: () => void;
}

export function createRegenerateSender(options: RegenerateSenderOptions): RegenerateSender {
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
      submitOptions = { ...(await options.base()), logger: options.logger, mode, ...(ids ? { ids } : {}), signal: claim.controller.signal };
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
        void checkAutoSubmit();
      });
  }

  async function checkAutoSubmit(): Promise<boolean> {
    try {
      if (sending) return false;
      const view = await readRegenerateQueue(await options.base());
      if (view.autoSubmitAt === undefined || view.queued.count < view.autoSubmitAt) return false;
      await send('batch');
      return true;
    } catch (error) {
      last = (error as Error).message;
      return false;
    }
  }

  return {
    send,
    checkAutoSubmit,
    async resume() {
      const waiting = withRegenerateQueueStore({ workspaceDirectory: options.workspaceDirectory, now: options.now }, (store) => store.listSending().length);
      if (waiting === 0 || sending) return;
      await send('batch').catch((error: unknown) => void (last = (error as Error).message));
    },
    isSending: () => sending !== undefined,
    last: () => last,
    async stop() {
      if (!sending) return;
      sending.controller.abort();
      await sending.promise;
    },
  };
}
