import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What an output folder holds, as the rule counts it: chargen's outputs by source and variant, and what is off. */
export interface OutputFolderReport {
  /** `<source path>#<variant>` → the base names of chargen sidecars claiming it (one each, when all is well). */
  bySource: Map<string, string[]>;
  /** Problems, in words: a source with two outputs, an image no sidecar claims, a file a sidecar names that is missing. */
  problems: string[];
}

const imageExtensions = /\.(png|jpe?g|webp)$/i;

/**
 * Reads every chargen sidecar (kind `chargen-image`) in a folder and checks that each source and variant has exactly
 * one image, sidecar and signature, that every image is claimed by a sidecar, and that no name carries a `-<hash>`.
 */
export async function describeOutputFolder(folder: string): Promise<OutputFolderReport> {
  const names = await readdir(folder);
  const bySource = new Map<string, string[]>();
  const claimed = new Set<string>();
  const problems: string[] = [];
  for (const name of names.filter((entry) => entry.endsWith('.json')).sort()) {
    const sidecar = JSON.parse(await readFile(join(folder, name), 'utf8')) as {
      kind?: string;
      source?: { path: string; variant: number };
      image: { file: string };
      thoughtSignature?: { file: string };
      thoughtImages?: { file: string }[];
    };
    if (sidecar.kind !== 'chargen-image' || !sidecar.source) continue;
    const id = `${sidecar.source.path}#${sidecar.source.variant}`;
    bySource.set(id, [...(bySource.get(id) ?? []), name.replace(/\.json$/, '')]);
    for (const file of [sidecar.image, sidecar.thoughtSignature, ...(sidecar.thoughtImages ?? [])]) {
      if (!file) continue;
      claimed.add(file.file);
      if (!names.includes(file.file)) problems.push(`${name} names ${file.file}, which is missing`);
    }
  }
  for (const [id, owners] of bySource) if (owners.length !== 1) problems.push(`${id} has ${owners.length} outputs: ${owners.join(', ')}`);
  for (const name of names) {
    if (imageExtensions.test(name) && !claimed.has(name)) problems.push(`${name} is claimed by no sidecar`);
    if (/-[0-9a-f]{8}(\.|$)/.test(name)) problems.push(`${name} is a hashed double`);
  }
  return { bySource, problems };
}
