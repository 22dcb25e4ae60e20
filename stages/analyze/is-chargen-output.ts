import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isRecord } from '../../schemas/is-record.ts';

/** Sidecars are a few kB; a larger JSON file beside an image is not one, and is not read. */
const maxSidecarBytes = 4 * 1024 * 1024;

/**
 * Whether an image is one chargen made: a chargen sidecar (`kind: chargen-image`) named after it lies beside it and
 * lists it as its image or as one of its thought images. Such an image is never read as input, wherever its folder
 * went: an earlier output folder carried along when the input folder moved, or one from another workspace.
 */
export async function isChargenOutput(path: string): Promise<boolean> {
  const name = basename(path);
  const stem = name.replace(/\.[^.]*$/, '').replace(/\.thought-\d+$/i, '');
  const sidecarPath = join(dirname(path), `${stem}.json`);
  const found = await stat(sidecarPath).catch(() => undefined);
  if (!found?.isFile() || found.size > maxSidecarBytes) return false;
  try {
    const sidecar: unknown = JSON.parse(await readFile(sidecarPath, 'utf8'));
    if (!isRecord(sidecar) || sidecar['kind'] !== 'chargen-image') return false;
    const files = [sidecar['image'], ...(Array.isArray(sidecar['thoughtImages']) ? sidecar['thoughtImages'] : [])];
    return files.some((file) => isRecord(file) && file['file'] === name);
  } catch {
    return false;
  }
}
