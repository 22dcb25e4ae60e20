import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readChosenVersions } from '../../lib/store/image-version-store.ts';
import { readOutputNames } from './output-names.ts';
import { readEarlierOutputs, type EarlierOutput } from './read-earlier-outputs.ts';

/** What planSynthesis needs of the output folder and the workspace, read once: it then decides without I/O. */
export interface OutputFolderListing {
  /** The folder, resolved. */
  outputDirectory: string;
  /** Its file names, hidden ones left out. */
  fileNames: string[];
  /** chargen's earlier outputs there, by base name, as their sidecars tell. */
  earlier: Map<string, EarlierOutput>;
  /** The names given to outputs in this folder before (entry id → base name). */
  assigned: Map<string, string>;
  /** The size of each earlier output's image file now (undefined when it is gone). */
  imageSizes: Map<string, number | undefined>;
  /** The request key of the version the artist chose for an entry (entry id → key): a run keeps it, never makes it again. */
  chosen: Map<string, string>;
}

export async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

export async function listOutputFolder(options: { outputDirectory: string; workspaceDirectory: string }): Promise<OutputFolderListing> {
  const outputDirectory = resolve(options.outputDirectory);
  const fileNames = (await readdir(outputDirectory).catch(() => [] as string[])).filter((name) => !name.startsWith('.'));
  const earlier = await readEarlierOutputs({ outputDirectory, fileNames });
  const assigned = await readOutputNames({ workspaceDirectory: options.workspaceDirectory, outputDirectory });
  const imageSizes = new Map<string, number | undefined>();
  for (const output of earlier.values()) imageSizes.set(output.image.file, await fileSize(join(outputDirectory, output.image.file)));
  const chosen = new Map([...readChosenVersions(options.workspaceDirectory)].map(([entry, version]) => [entry, version.requestKey]));
  return { outputDirectory, fileNames, earlier, assigned, imageSizes, chosen };
}
