import { opendir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { backendsDirectory, backendStateDirectory, storedAnswersDirectory } from './workspace-layout.ts';

/** How many received images and signatures the workspace keeps, and the disk they take. */
export interface StoredAnswersSize {
  files: number;
  bytes: number;
}

export { storedAnswersDirectory };

/** Every backend's store in the workspace (`backends/<identity>/blobs/synthesize`), listed without holding all names. */
async function* listStoredFiles(workspaceDirectory: string): AsyncGenerator<string> {
  const backends = await opendir(backendsDirectory(workspaceDirectory)).catch(() => undefined);
  if (!backends) return;
  for await (const backend of backends) {
    if (!backend.isDirectory()) continue;
    const store = await opendir(storedAnswersDirectory(backendStateDirectory(workspaceDirectory, backend.name))).catch(() => undefined);
    if (!store) continue;
    for await (const entry of store) {
      if (entry.isFile()) yield join(store.path, entry.name);
    }
  }
}

/** What `chargen status` says of the stored answers. */
export async function measureStoredAnswers(options: { workspaceDirectory: string }): Promise<StoredAnswersSize> {
  const size: StoredAnswersSize = { files: 0, bytes: 0 };
  for await (const path of listStoredFiles(options.workspaceDirectory)) {
    const found = await stat(path).catch(() => undefined);
    if (!found) continue;
    size.files += 1;
    size.bytes += found.size;
  }
  return size;
}

/**
 * `chargen clean --answers`: deletes every received image and signature. The answers' records stay, but without
 * their images they can no longer stand in for a request: any output not already in place is paid for again.
 */
export async function dropStoredAnswers(options: { workspaceDirectory: string }): Promise<StoredAnswersSize> {
  const size: StoredAnswersSize = { files: 0, bytes: 0 };
  for await (const path of listStoredFiles(options.workspaceDirectory)) {
    const found = await stat(path).catch(() => undefined);
    await rm(path, { force: true });
    size.files += 1;
    size.bytes += found?.size ?? 0;
  }
  return size;
}

/** `3.4 MB`, `812 kB`, `0 bytes`: decimal units, as disk tools and file browsers show them. */
export function formatByteCount(bytes: number): string {
  if (bytes < 1000) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
