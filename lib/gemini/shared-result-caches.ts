import type { ResultCache } from './result-cache.ts';

/**
 * One open result cache per stage for every `execute` of an executor running at once (the chunks of a run flow
 * through a stage side by side): one writer per file, and an answer one call settles is seen by the others. Opened by
 * the first call of a stage, closed when the last one running ends.
 */
export interface SharedResultCaches {
  acquire(stage: string): Promise<{ cache: ResultCache; release: () => Promise<void> }>;
}

export function createSharedResultCaches(options: { open: (stage: string) => Promise<ResultCache> }): SharedResultCaches {
  const open = new Map<string, { cache: Promise<ResultCache>; users: number }>();
  return {
    async acquire(stage) {
      let entry = open.get(stage);
      if (!entry) {
        entry = { cache: options.open(stage), users: 0 };
        open.set(stage, entry);
      }
      entry.users += 1;
      const held = entry;
      const cache = await held.cache.catch((error: unknown) => {
        held.users -= 1;
        if (open.get(stage) === held) open.delete(stage);
        throw error;
      });
      let released = false;
      return {
        cache,
        async release() {
          if (released) return;
          released = true;
          held.users -= 1;
          if (held.users > 0) return;
          if (open.get(stage) === held) open.delete(stage);
          await cache.close();
        },
      };
    },
  };
}

/** Of these keys, the ones the stage's cache holds a final answer for: their requests need no upload and no line sent. */
export async function findAnsweredKeys(caches: SharedResultCaches, options: { stage: string; keys: Iterable<string> }): Promise<Set<string>> {
  const { cache, release } = await caches.acquire(options.stage);
  try {
    return new Set([...options.keys].filter((key) => cache.get(key) !== undefined));
  } finally {
    await release();
  }
}
