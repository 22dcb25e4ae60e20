import { join, resolve } from 'node:path';
import { readImageVersionStore, type ImageVersion } from '../../lib/store/image-version-store.ts';
import { versionsDirectory } from '../../lib/store/workspace-layout.ts';
import { readImageSidecar } from '../../stages/synthesize/image-sidecar.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { requireWorkspace } from '../workspace-status.ts';

export interface VersionView extends ImageVersion {
  chosen: boolean;
  prompt?: string;
  seed?: number;
  aspectRatio?: string;
  width?: number;
  height?: number;
}

/**
 * The versions of one image (by its source and variant, as the gallery names it), or without `variant` of every image
 * of the character (shot by shot), oldest first, each with what made it.
 */
export async function listImageVersions(options: { cwd: string; config: ChargenConfig; now: () => number; source: string; variant?: number }): Promise<VersionView[]> {
  const workspaceDirectory = resolve(options.cwd, options.config.workdir);
  await requireWorkspace(workspaceDirectory);
  const { versions, chosen } = readImageVersionStore(workspaceDirectory, (store) => ({ versions: store.listOf(options.source, options.variant), chosen: store.chosen() })) ?? { versions: [], chosen: new Map() };
  const views: VersionView[] = [];
  for (const version of versions) {
    const sidecar = await readImageSidecar(join(versionsDirectory(workspaceDirectory), version.sidecar));
    views.push({
      ...version,
      chosen: chosen.get(version.entry)?.version === version.id,
      ...(sidecar?.prompt !== undefined ? { prompt: sidecar.prompt } : {}),
      ...(sidecar?.seed ? { seed: sidecar.seed.value } : {}),
      ...(sidecar?.imageConfig ? { aspectRatio: sidecar.imageConfig.aspectRatio } : {}),
      ...(sidecar ? { width: sidecar.image.width, height: sidecar.image.height } : {}),
    });
  }
  return views;
}

/** One version's image file in the versions folder, for the page to show. */
export function findVersionImage(options: { cwd: string; config: ChargenConfig; now: () => number; id: number }): { folder: string; file: string } | undefined {
  const workspaceDirectory = resolve(options.cwd, options.config.workdir);
  const version = readImageVersionStore(workspaceDirectory, (store) => store.get(options.id));
  return version ? { folder: versionsDirectory(workspaceDirectory), file: version.image } : undefined;
}
