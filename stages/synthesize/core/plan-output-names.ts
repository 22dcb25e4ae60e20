import { createHash } from 'node:crypto';
import { compareText } from '../../../lib/compare-text.ts';

/** One output the run should have: a source image's variant or named shot. Several may share a request key (same bytes). */
export interface OutputEntry {
  sourcePath: string;
  variant: number;
  /** A named shot is known by its name, not its place in the list: reordering the shots moves no file. */
  shot?: string;
}

/** The output a file in the output folder belongs to: `hero.png`, `hero.json` and `hero.thought-1.png` → `hero`. */
export function toBaseName(fileName: string): string {
  return fileName.replace(/\.[^.]*$/, '').replace(/\.thought-\d+$/i, '');
}

export function formatEntryId(entry: OutputEntry): string {
  return entry.shot === undefined ? `${entry.sourcePath}#${entry.variant}` : `${entry.sourcePath}#shot:${entry.shot}`;
}

/** An entry as messages name it: `hero.png`, `hero.png variant 2`, `hero.png shot "action pose"`. */
export function describeOutputEntry(entry: OutputEntry): string {
  if (entry.shot !== undefined) return `${entry.sourcePath} shot ${JSON.stringify(entry.shot)}`;
  return entry.variant > 1 ? `${entry.sourcePath} variant ${entry.variant}` : entry.sourcePath;
}

/** The output entry of a prompt (or of anything that names its source, variant and shot). */
export function toOutputEntry(prompt: { sourceImage: { path: string }; variant: number; shot?: string | undefined }): OutputEntry {
  return { sourcePath: prompt.sourceImage.path, variant: prompt.variant, ...(prompt.shot !== undefined ? { shot: prompt.shot } : {}) };
}

const maxNameBytes = 96;
const windowsReservedNames = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

function truncateUtf8(text: string, maxBytes: number): string {
  let result = '';
  for (const character of text) {
    if (Buffer.byteLength(result + character) > maxBytes) break;
    result += character;
  }
  return result;
}

/**
 * A file name part that is safe on every common file system: letters and digits of any script, `.`, `_` and `-`;
 * no separators, control characters, quotes or reserved names, no leading dot, bounded length.
 */
export function toSafeName(text: string, maxBytes = maxNameBytes): string {
  const cleaned = text
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._-]+/gu, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/-{2,}/g, '-')
    .replace(/^[.\-]+|[.\-]+$/g, '');
  // A name never ends like another output's thought image (`hero.thought-1`), which it could overwrite.
  const bounded = truncateUtf8(cleaned, maxBytes).replace(/[.\-]+$/g, '').replace(/\.(thought-\d+)$/i, '-$1');
  if (bounded === '') return 'image';
  return windowsReservedNames.test(bounded) ? `${bounded}-image` : bounded;
}

/** `heroes/Zoë "the bold".png`, variant 2 → `heroes-Zoë-the-bold-2`; shot "Action pose!" → `heroes-Zoë-the-bold-Action-pose`. */
export function formatBaseName(entry: OutputEntry): string {
  const withoutExtension = entry.sourcePath.replace(/\.[^./\\]*$/, '');
  const stem = toSafeName(withoutExtension.split(/[\\/]+/).join('-'));
  if (entry.shot !== undefined) {
    // The shot's part is kept whole (up to 40 bytes) and the character's cut to fit: shots of one character differ.
    const shot = toSafeName(entry.shot, 40);
    return `${toSafeName(withoutExtension.split(/[\\/]+/).join('-'), maxNameBytes - Buffer.byteLength(shot) - 1)}-${shot}`;
  }
  return entry.variant > 1 ? `${stem}-${entry.variant}` : stem;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * Pure: the base name (no extension) of every entry. Names given in earlier runs are kept, so an output never moves
 * and a rerun after a crash overwrites its own half-finished file rather than making a second one. An entry whose
 * name was not kept (another output folder's names, a lost names file) takes the name of the output chargen placed
 * for it in this folder before, found by its sidecar, so it is replaced rather than doubled. A new name avoids,
 * case-insensitively, every name already given and every file in the output folder that chargen did not write.
 */
export function planOutputNames(options: {
  entries: readonly OutputEntry[];
  /** Entry id → base name, from earlier runs. */
  assigned: ReadonlyMap<string, string>;
  /** Base names of files in the output folder (any extension), including chargen's own. */
  existingBaseNames: Iterable<string>;
  /** Entry id → base names of the outputs chargen placed for it in this folder before (read from their sidecars). */
  earlier?: ReadonlyMap<string, readonly string[]>;
}): Map<string, string> {
  const names = new Map(options.assigned);
  const ours = new Set([...options.assigned.values()].map((name) => name.toLowerCase()));
  const taken = new Set([...options.existingBaseNames].map((name) => name.toLowerCase()));
  for (const name of ours) taken.add(name);
  const entries = [...options.entries].sort((left, right) => compareText(formatEntryId(left), formatEntryId(right)));
  for (const entry of entries) {
    const id = formatEntryId(entry);
    if (names.has(id)) continue;
    const preferred = formatBaseName(entry);
    const candidates = [...(options.earlier?.get(id) ?? [])].sort((left, right) => Number(right === preferred) - Number(left === preferred) || compareText(left, right));
    const adopted = candidates.find((name) => !ours.has(name.toLowerCase()));
    if (adopted === undefined) continue;
    ours.add(adopted.toLowerCase());
    taken.add(adopted.toLowerCase());
    names.set(id, adopted);
  }
  for (const entry of entries) {
    const id = formatEntryId(entry);
    if (names.has(id)) continue;
    const base = formatBaseName(entry);
    let name = base;
    for (let attempt = 0; taken.has(name.toLowerCase()); attempt += 1) {
      name = `${truncateUtf8(base, maxNameBytes - 9)}-${shortHash(`${id}#${attempt}`)}`;
    }
    taken.add(name.toLowerCase());
    names.set(id, name);
  }
  return names;
}
