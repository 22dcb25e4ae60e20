import { acquireWorkspaceLock } from '../../lib/store/workspace-lock.ts';

/**
 * The workspace lock, shared by the actions of one process: the first holder takes the lock file (as `chargen run`
 * does, refused while another process holds it), the last one to finish releases it. A batch the page submitted
 * holds it while its job runs, and choosing a version meanwhile (which writes only the output folder, not the
 * versions the batch writes) goes on under the same hold; a `chargen run` anywhere is refused until both are done.
 */
export interface WorkspaceLease {
  hold<T>(command: string, work: () => Promise<T>): Promise<T>;
}

export function createWorkspaceLease(options: { directory: string; now: () => number }): WorkspaceLease {
  let holders = 0;
  let lock: Promise<{ release(): Promise<void> }> | undefined;
  return {
    async hold(command, work) {
      holders += 1;
      try {
        lock ??= acquireWorkspaceLock({ directory: options.directory, command, now: options.now });
        await lock;
      } catch (error) {
        holders -= 1;
        if (holders === 0) lock = undefined;
        throw error;
      }
      try {
        return await work();
      } finally {
        holders -= 1;
        if (holders === 0) {
          const held = lock;
          lock = undefined;
          await (await held)?.release();
        }
      }
    },
  };
}
