import type { Logger } from '../../lib/logger.ts';
import { formatList } from '../../lib/format-list.ts';
import type { AnalyzeSettings } from '../../schemas/analyze-settings.ts';
import type { AnalyzeFailure } from './analysis-result.ts';
import { findAnalysisImageLimit, groupIntoCharacters, takeReferences } from './core/plan-characters.ts';
import { inspectInputImage, type InputImage } from './inspect-input-image.ts';
import { describeUnmatchedFile } from './list-unmatched-files.ts';
import { scanImages, type ScannedEntry } from './scan-images.ts';

export type GoodImage = Extract<InputImage, { ok: true }> & { path: string; relativePath: string };

/** A character as the input folder holds it: a folder of references, or one image lying directly in the input folder. */
export interface InputCharacter {
  /** `knight/` for a folder, `knight.png` for an image directly in the input folder. */
  name: string;
  /** Its distinct references, most informative first (stages/analyze/core/plan-characters.ts). */
  references: GoodImage[];
  /** The references its analysis request carries: the first analyze.maxReferences of them. */
  sent: GoodImage[];
  /** The rest, named in a warning. */
  leftOut: GoodImage[];
}

export interface CollectedImages {
  characters: InputCharacter[];
  failures: AnalyzeFailure[];
  warnings: string[];
}

/**
 * The bytes characters put on the Files API at most: each one's first `limit` references (the most its analysis or its
 * image requests carry; both take them most informative first), every one by default; a reference two of them carry
 * is uploaded, and counted, once.
 */
export function measureCharactersBytes(characters: readonly InputCharacter[], limit = Number.POSITIVE_INFINITY): number {
  const sizes = new Map(characters.flatMap((character) => character.references.slice(0, limit).map((image) => [image.sha256, image.sizeBytes] as const)));
  return [...sizes.values()].reduce((sum, size) => sum + size, 0);
}

/** What to say of a character whose analysis leaves references out. */
function describeCharacterTrim(character: InputCharacter, limit: number): string | undefined {
  if (character.leftOut.length === 0) return undefined;
  const names = character.leftOut.map((image) => image.relativePath);
  return `${character.name}: ${character.references.length} references, its analysis takes the ${limit} most informative (analyze.maxReferences); left out: ${formatList(names)}`;
}

/**
 * The part of stage one that spends nothing: find the images, check each by its bytes (a bad file is a named
 * failure with a fix), and group them into characters, each with its references in order. The dry run stops here.
 */
export async function collectInputImages(options: {
  inputDirectory: string;
  settings: AnalyzeSettings;
  logger: Logger;
  exclude?: readonly { role: string; path: string }[];
  /** The input folder's scan, when the run has it already (else the folder is scanned here). */
  scanned?: readonly ScannedEntry[];
}): Promise<CollectedImages> {
  const { settings, logger } = options;
  const failures: AnalyzeFailure[] = [];
  const warnings: string[] = [];
  const warn = (line: string) => {
    warnings.push(line);
    logger.warn(line);
  };
  const fail = (failure: AnalyzeFailure) => {
    failures.push(failure);
    logger.warn(`${failure.sourcePath}: ${failure.reason}. ${failure.fix}`);
  };
  const scanned = options.scanned ?? await scanImages({ inputDirectory: options.inputDirectory, patterns: settings.patterns, ignore: settings.ignore, ...(options.exclude ? { exclude: options.exclude } : {}) });
  const good: GoodImage[] = [];
  for (const entry of scanned) {
    if (entry.kind === 'unmatched') {
      const report = describeUnmatchedFile(entry.relativePath);
      if (report.kind === 'failure') fail({ sourcePath: entry.relativePath, step: 'scan', reason: report.reason, fix: report.fix });
      else warn(`${entry.relativePath}: ${report.message}`);
      continue;
    }
    if (entry.kind === 'rejected') {
      fail({ sourcePath: entry.relativePath, step: 'scan', reason: entry.reason, fix: entry.fix });
      continue;
    }
    const inspected = await inspectInputImage({ path: entry.path, sizeBytes: entry.sizeBytes, maxBytes: settings.maxImageBytes });
    if (!inspected.ok) {
      fail({ sourcePath: entry.relativePath, step: 'inspect', reason: inspected.reason, fix: inspected.fix });
      continue;
    }
    if (inspected.warning) warn(`${entry.relativePath}: ${inspected.warning}`);
    good.push({ ...inspected, path: entry.path, relativePath: entry.relativePath });
  }
  const limit = findAnalysisImageLimit(settings);
  const characters = groupIntoCharacters(good).map((character): InputCharacter => {
    for (const duplicate of character.duplicates) warn(`${duplicate.image.relativePath}: the same bytes as ${duplicate.sameAs.relativePath}, in the same character; counted once`);
    return { name: character.name, references: character.references, ...takeReferences(character.references, limit) };
  });
  for (const character of characters) {
    const trimmed = describeCharacterTrim(character, limit);
    if (trimmed) warn(trimmed);
  }
  return { characters, failures, warnings };
}

/**
 * Characters whose analyses send the same references (one request answers them all: a folder copied under another
 * name) side by side, each group where its first character was: a run's chunks are cut between groups, never inside
 * one, so two chunks under way never ask (and pay) for the same analysis at once.
 */
export function groupBySentReferences(characters: readonly InputCharacter[]): InputCharacter[][] {
  const groups = new Map<string, InputCharacter[]>();
  for (const character of characters) {
    const identity = character.sent.map((image) => image.sha256).join(',');
    const group = groups.get(identity);
    if (group) group.push(character);
    else groups.set(identity, [character]);
  }
  return [...groups.values()];
}

