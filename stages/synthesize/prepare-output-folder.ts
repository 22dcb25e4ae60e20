import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../../lib/logger.ts';
import { writeOutputNames } from './output-names.ts';
import { toBaseName, type OutputEntry } from './core/plan-output-names.ts';
import { listOutputFolder, type OutputFolderListing } from './list-output-folder.ts';
import { planOutputFolder } from './core/plan-synthesis.ts';
import type { EarlierOutput } from './read-earlier-outputs.ts';
import type { SynthesisFolders } from './synthesize-images-options.ts';

/** The output folder as a run found it, with the name of every output the run may make (persisted before any). */
export interface PreparedOutputFolder {
  outputDirectory: string;
  listing: OutputFolderListing;
  names: ReadonlyMap<string, string>;
}

/**
 * What is done to the output folder once a run, before any image is placed: temporary files of a killed run removed,
 * a name planned (and persisted) for every output the run may make, chargen's doubles removed. The chunks of a run
 * then place their images side by side, each under its own name.
 */
export async function prepareOutputFolder(options: { entries: readonly OutputEntry[]; folders: SynthesisFolders; logger: Logger }): Promise<PreparedOutputFolder> {
  const outputDirectory = resolve(options.folders.output);
  await mkdir(outputDirectory, { recursive: true });
  await removeTemporaryFiles(outputDirectory);
  const listing = await listOutputFolder({ outputDirectory, workspaceDirectory: options.folders.workspace });
  const plan = planOutputFolder({ entries: options.entries, listing });
  if (plan.namesChanged) await writeOutputNames({ workspaceDirectory: options.folders.workspace, outputDirectory, names: plan.names });
  await removeDoubles({ outputDirectory, doubles: plan.doubles, logger: options.logger });
  return { outputDirectory, listing: { ...listing, assigned: plan.names }, names: plan.names };
}

/**
 * A run killed between writing a temporary file and renaming it leaves it behind; only chargen names files this way
 * (`.chargen-<hex>.tmp` for images, `.<name>.<hex>.tmp` for sidecars), and the workspace lock says no other run is
 * writing now.
 */
async function removeTemporaryFiles(outputDirectory: string): Promise<void> {
  for (const name of await readdir(outputDirectory)) {
    if (/^\.(chargen-[0-9a-f]{12}|.+\.[0-9a-f]{12})\.tmp$/.test(name)) await rm(join(outputDirectory, name), { force: true });
  }
}

/**
 * chargen's own earlier outputs for a source and variant that has another name in this folder (left by an older
 * chargen, which forgot a folder's names when another was used): their files go, so each source and variant has one
 * output. Only files of the double's own base name are removed, whatever its sidecar lists.
 */
async function removeDoubles(options: { outputDirectory: string; doubles: readonly EarlierOutput[]; logger: Logger }): Promise<void> {
  if (options.doubles.length === 0) return;
  for (const double of options.doubles) {
    for (const file of double.files) {
      if (toBaseName(file) === double.baseName && !/[\\/]/.test(file)) await rm(join(options.outputDirectory, file), { force: true });
    }
  }
  const names = options.doubles.map((double) => double.image.file);
  options.logger.info(`synthesize: removed ${names.length} earlier double${names.length === 1 ? '' : 's'} of outputs that have another name here (same source and variant): ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`);
}
