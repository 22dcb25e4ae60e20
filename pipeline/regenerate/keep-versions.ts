import { withImageVersionStore, type ImageVersionStore } from '../../lib/store/image-version-store.ts';
import type { RegenerateItem } from '../../lib/store/regenerate-queue-store.ts';
import { versionsDirectory } from '../../lib/store/workspace-layout.ts';
import { formatBaseName, toOutputEntry } from '../../stages/synthesize/core/plan-output-names.ts';
import type { PendingEntry } from '../../stages/synthesize/core/plan-synthesis.ts';
import { readOutputNames } from '../../stages/synthesize/output-names.ts';
import { copyOutputFiles, readPlacedOutput } from './version-files.ts';

/** A version's base name in the versions folder: its output's name and its number (`knight-action-pose-v3`). */
export function formatVersionName(prompt: { sourceImage: { path: string }; variant: number; shot?: string | undefined }, number: number): string {
  return `${formatBaseName(toOutputEntry(prompt))}-v${number}`;
}

/**
 * The queued items as the requests to send, one per entry and request key, each under the next version name of its
 * entry; items whose entry has a version of that request already take it (asked again, it is the same image).
 */
export function nameVersions(options: { store: ImageVersionStore; items: readonly RegenerateItem[] }): {
  pending: { entry: PendingEntry; label: string; items: RegenerateItem[] }[];
  known: Map<number, number>;
} {
  const known = new Map<number, number>();
  const groups = new Map<string, { entry: PendingEntry; label: string; items: RegenerateItem[] }>();
  const given = new Map<string, number>();
  for (const item of options.items) {
    const existing = options.store.find(item.entry, item.requestKey);
    if (existing) {
      known.set(item.id, existing.id);
      continue;
    }
    const group = groups.get(`${item.entry}\0${item.requestKey}`);
    if (group) {
      group.items.push(item);
      continue;
    }
    const number = options.store.count(item.entry) + (given.get(item.entry) ?? 0) + 1;
    given.set(item.entry, (given.get(item.entry) ?? 0) + 1);
    const seed = item.prompt.seed ? ` · seed ${item.prompt.seed.value}` : '';
    groups.set(`${item.entry}\0${item.requestKey}`, {
      entry: { prompt: item.prompt, key: item.requestKey, baseName: formatVersionName(item.prompt, number) },
      label: `v${number} · ${item.changes.join(', ')}${seed}`,
      items: [item],
    });
  }
  return { pending: [...groups.values()], known };
}

/**
 * The output folder's image of each entry, as the run placed it, kept as a version (copied with its sidecar into the
 * versions folder) unless it is one already: the first version of an image is the run's, and choosing another never
 * loses it. An image changed by hand in the output folder is left alone.
 */
export async function keepPlacedOutputs(options: { workspaceDirectory: string; outputDirectory: string; entries: readonly string[]; now: () => number }): Promise<void> {
  const names = await readOutputNames({ workspaceDirectory: options.workspaceDirectory, outputDirectory: options.outputDirectory });
  const storeOptions = { workspaceDirectory: options.workspaceDirectory, now: options.now };
  for (const entry of new Set(options.entries)) {
    const baseName = names.get(entry);
    const placed = baseName ? await readPlacedOutput({ folder: options.outputDirectory, baseName, entry }) : undefined;
    if (!placed || placed.edited || !placed.sidecar.source) continue;
    const { sidecar } = placed;
    const number = withImageVersionStore(storeOptions, (store) => (store.find(entry, sidecar.key) ? undefined : store.count(entry) + 1));
    if (number === undefined) continue;
    const source = sidecar.source as NonNullable<typeof sidecar.source>;
    const copy = await copyOutputFiles({ from: options.outputDirectory, sidecar, to: versionsDirectory(options.workspaceDirectory), baseName: formatVersionName({ sourceImage: { path: source.path }, variant: source.variant, shot: source.shot }, number) });
    const seed = sidecar.seed ? ` · seed ${sidecar.seed.value}` : '';
    withImageVersionStore(storeOptions, (store) => store.add({ entry, sourcePath: source.path, variant: source.variant, requestKey: sidecar.key, image: copy.image, sidecar: copy.sidecar, label: `v${number} · made by chargen run${seed}` }));
  }
}
