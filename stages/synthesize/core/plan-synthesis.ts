import { join } from 'node:path';
import type { GenerationPrompt } from '../../../schemas/generation-prompt.ts';
import { computeImageRequestKey, toUnseededPrompt } from './build-image-request.ts';
import { formatEntryId, planOutputNames, toBaseName, toOutputEntry, type OutputEntry } from './plan-output-names.ts';
import type { EarlierOutput } from '../read-earlier-outputs.ts';
import type { OutputFolderListing } from '../list-output-folder.ts';
import type { SynthesizeSettings } from '../../../schemas/synthesize-settings.ts';

/** An output the run makes (or places from the store): its prompt, its file's base name and its request's key. */
export interface PendingEntry {
  prompt: GenerationPrompt;
  baseName: string;
  key: string;
  /** The same prompt without its seed (chargen's own), whose answer, received before seeds were sent, serves too. */
  unseeded?: { prompt: GenerationPrompt; key: string };
}

/** An output whose sidecar already names the current request and backend, with its image in place. */
export interface UnchangedOutput {
  sourcePath: string;
  variant: number;
  key: string;
  image: string;
  sidecar: string;
  status: 'unchanged';
}

export interface SynthesisPlan {
  names: Map<string, string>;
  namesChanged: boolean;
  unchanged: UnchangedOutput[];
  pending: PendingEntry[];
  /** chargen's own earlier outputs for a source and variant that now has another name here: replaced, not kept twice. */
  doubles: EarlierOutput[];
}

function groupByEntry(outputs: ReadonlyMap<string, EarlierOutput>): Map<string, string[]> {
  const byEntry = new Map<string, string[]>();
  for (const output of outputs.values()) byEntry.set(output.entryId, [...(byEntry.get(output.entryId) ?? []), output.baseName]);
  return byEntry;
}

function sameNames(left: ReadonlyMap<string, string>, right: ReadonlyMap<string, string>): boolean {
  return left.size === right.size && [...left].every(([id, name]) => right.get(id) === name);
}

/**
 * What synthesize would do, spending and writing nothing, decided from the output folder's listing: the name of
 * every output (names given in this folder kept, chargen's earlier outputs recognised by their sidecars), the outputs
 * whose sidecar already names the current request and backend, the rest (still to make or to place from the store),
 * and chargen's doubles to remove.
 */
export function planSynthesis(options: { prompts: readonly GenerationPrompt[]; settings: SynthesizeSettings; backend: string; listing: OutputFolderListing; keepEdited?: boolean }): SynthesisPlan {
  const { outputDirectory, earlier, assigned } = options.listing;
  const earlierByEntry = groupByEntry(earlier);
  const names = planOutputNames({
    entries: options.prompts.map(toOutputEntry),
    assigned,
    existingBaseNames: options.listing.fileNames.map(toBaseName),
    earlier: earlierByEntry,
  });
  const unchanged: UnchangedOutput[] = [];
  const pending: PendingEntry[] = [];
  const doubles: EarlierOutput[] = [];
  for (const prompt of options.prompts) {
    const entryId = formatEntryId(toOutputEntry(prompt));
    const baseName = names.get(entryId) as string;
    const key = computeImageRequestKey({ prompt, settings: options.settings });
    const unseededPrompt = toUnseededPrompt(prompt);
    const unseeded = unseededPrompt ? { prompt: unseededPrompt, key: computeImageRequestKey({ prompt: unseededPrompt, settings: options.settings }) } : undefined;
    for (const other of earlierByEntry.get(entryId) ?? []) if (other !== baseName) doubles.push(earlier.get(other) as EarlierOutput);
    const current = earlier.get(baseName);
    const sidecarPath = join(outputDirectory, `${baseName}.json`);
    const currentKey = current?.key === key || (unseeded !== undefined && current?.key === unseeded.key) ? current?.key : undefined;
    const size = current ? options.listing.imageSizes.get(current.image.file) : undefined;
    // keepEdited (a turnaround sheet): an image whose bytes are no longer the ones chargen wrote was changed by hand, and is kept.
    const edited = options.keepEdited === true && current?.entryId === entryId && size !== undefined && size !== current.image.bytes;
    // The version the artist chose (chargen ui) stays, whatever the prompts say now, while its bytes are the chosen ones.
    const chosen = current !== undefined && options.listing.chosen?.get(entryId) === current.key && size === current.image.bytes;
    if (current?.entryId === entryId && (edited || chosen || (currentKey !== undefined && current.backend === options.backend && size === current.image.bytes))) {
      unchanged.push({ sourcePath: prompt.sourceImage.path, variant: prompt.variant, key: currentKey ?? current.key, image: join(outputDirectory, current.image.file), sidecar: sidecarPath, status: 'unchanged' });
    } else {
      pending.push({ prompt, baseName, key, ...(unseeded ? { unseeded } : {}) });
    }
  }
  return { names, namesChanged: !sameNames(names, assigned), unchanged, pending, doubles };
}

/**
 * Pure: the name of every entry a run may make (names given before kept, new ones planned), and chargen's earlier
 * outputs of an entry under another name, to remove: decided once a run, before its chunks place their images.
 */
export function planOutputFolder(options: { entries: readonly OutputEntry[]; listing: OutputFolderListing }): { names: Map<string, string>; namesChanged: boolean; doubles: EarlierOutput[] } {
  const { earlier, assigned } = options.listing;
  const earlierByEntry = groupByEntry(earlier);
  const names = planOutputNames({ entries: options.entries, assigned, existingBaseNames: options.listing.fileNames.map(toBaseName), earlier: earlierByEntry });
  const doubles: EarlierOutput[] = [];
  for (const entry of options.entries) {
    const entryId = formatEntryId(entry);
    for (const other of earlierByEntry.get(entryId) ?? []) if (other !== names.get(entryId)) doubles.push(earlier.get(other) as EarlierOutput);
  }
  return { names, namesChanged: !sameNames(names, assigned), doubles };
}
