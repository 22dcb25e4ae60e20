import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../../lib/errors.ts';
import { writeCheckpointStore } from '../../lib/store/checkpoint-store.ts';
import { withImageVersionStore, type ImageVersion } from '../../lib/store/image-version-store.ts';
import { versionsDirectory } from '../../lib/store/workspace-layout.ts';
import { readImageSidecar } from '../../stages/synthesize/image-sidecar.ts';
import { formatBaseName, toBaseName } from '../../stages/synthesize/core/plan-output-names.ts';
import { readOutputNames, writeOutputNames } from '../../stages/synthesize/output-names.ts';
import { toSynthesisItems } from '../../stages/synthesize/synthesize-checkpoint.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { requireWorkspace } from '../workspace-status.ts';
import { keepPlacedOutputs } from './keep-versions.ts';
import { copyOutputFiles, listSidecarFiles, readPlacedOutput } from './version-files.ts';
import { createWorkspaceLease, type WorkspaceLease } from './workspace-lease.ts';

export interface ChooseVersionOptions {
  cwd: string;
  config: ChargenConfig;
  now: () => number;
  version: number;
  lease?: WorkspaceLease;
}

/** The base name the entry has in the output folder (given by earlier runs), or the one a run would give it. */
async function placeOf(options: { workspaceDirectory: string; outputDirectory: string; entry: string; source: { path: string; variant: number; shot?: string | undefined } }) {
  const names = await readOutputNames({ workspaceDirectory: options.workspaceDirectory, outputDirectory: options.outputDirectory });
  const given = names.get(options.entry);
  const baseName = given ?? formatBaseName({ sourcePath: options.source.path, variant: options.source.variant, ...(options.source.shot !== undefined ? { shot: options.source.shot } : {}) });
  return { names, baseName, given: given !== undefined };
}

/**
 * Makes a version the one the output folder holds: the image there now is kept as a version first (unless it is one
 * already), then the chosen version and its sidecar are copied under the entry's name, the choice is recorded, and the
 * synthesize checkpoint names it, so `chargen run` keeps it (never makes that image again, never overwrites it) while
 * its bytes stay the chosen ones. A file of that name chargen did not write, or an image changed by hand, is refused.
 */
export async function chooseVersion(options: ChooseVersionOptions): Promise<{ version: ImageVersion; image: string; sidecar: string }> {
  const workspaceDirectory = resolve(options.cwd, options.config.workdir);
  await requireWorkspace(workspaceDirectory);
  const outputDirectory = resolve(options.cwd, options.config.out);
  const lease = options.lease ?? createWorkspaceLease({ directory: workspaceDirectory, now: options.now });
  return lease.hold('ui: choose a version', async () => {
    const storeOptions = { workspaceDirectory, now: options.now };
    const version = withImageVersionStore(storeOptions, (store) => store.get(options.version));
    if (!version) throw new UsageError({ message: `version: no version ${options.version} in this workspace` });
    const sidecar = await readImageSidecar(join(versionsDirectory(workspaceDirectory), version.sidecar));
    if (!sidecar?.source) throw new UsageError({ message: `version: the sidecar of version ${version.id} (${version.sidecar}) is missing or damaged in ${versionsDirectory(workspaceDirectory)}` });
    const place = await placeOf({ workspaceDirectory, outputDirectory, entry: version.entry, source: sidecar.source });
    const placed = await readPlacedOutput({ folder: outputDirectory, baseName: place.baseName, entry: version.entry });
    const present = (await readdir(outputDirectory).catch(() => [] as string[])).some((name) => toBaseName(name) === place.baseName);
    if (present && !placed) throw new UsageError({ message: `version: ${place.baseName} in ${outputDirectory} was not written by chargen; move it away to place the chosen version there` });
    if (placed?.edited) throw new UsageError({ message: `version: ${placed.sidecar.image.file} in ${outputDirectory} was changed by hand; move it away (or copy it elsewhere) to place the chosen version there` });
    await keepPlacedOutputs({ workspaceDirectory, outputDirectory, entries: [version.entry], now: options.now });
    const copy = await copyOutputFiles({ from: versionsDirectory(workspaceDirectory), sidecar, to: outputDirectory, baseName: place.baseName });
    const kept = new Set(listSidecarFiles(copy.copied));
    for (const file of placed ? listSidecarFiles(placed.sidecar) : []) if (!kept.has(file)) await rm(join(outputDirectory, file), { force: true });
    withImageVersionStore(storeOptions, (store) => store.choose(version.entry, version));
    if (!place.given) await writeOutputNames({ workspaceDirectory, outputDirectory, names: new Map([...place.names, [version.entry, place.baseName]]) });
    const image = join(outputDirectory, copy.image);
    const sidecarPath = join(outputDirectory, copy.sidecar);
    writeCheckpointStore(workspaceDirectory, (store) => {
      if (!store.readState('synthesize')) return;
      store.putItems('synthesize', toSynthesisItems({ outputDirectory, outputs: [{ sourcePath: version.sourcePath, variant: version.variant, key: version.requestKey, image, sidecar: sidecarPath, status: 'written' }], failures: [] }));
    });
    return { version, image, sidecar: sidecarPath };
  });
}
