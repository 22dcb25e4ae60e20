import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { inspectImageFile } from '../../lib/media/inspect-image-file.ts';
import type { CompileSettings } from '../../schemas/compile-settings.ts';
import type { GenerationPrompt, PromptReference } from '../../schemas/generation-prompt.ts';
import type { AnalyzedImage } from '../analyze/analysis-result.ts';
import { attachSheet, compileSheetPrompts, sheetShotName } from '../compile/core/compile-sheets.ts';
import type { PromptTemplates } from '../compile/load-prompt-templates.ts';
import { synthesizeChunk } from './synthesize-images.ts';
import type { PreparedOutputFolder } from './prepare-output-folder.ts';
import { planSynthesis, type PendingEntry } from './core/plan-synthesis.ts';
import type { OutputFolderListing } from './list-output-folder.ts';
import type { SynthesizeFailure, SynthesizeImagesOptions, SynthesizeResult } from './synthesize-images-options.ts';

/** What a chunk's sheets left: each character's sheet as a reference (by its bytes now), and the sheets that failed. */
export interface SheetsResult {
  sheets: Map<string, PromptReference>;
  failures: SynthesizeFailure[];
  report: SynthesizeResult['report'];
  /** Sheets found current (or changed by hand, and kept): nothing asked. */
  unchanged: number;
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A sheet in the output folder as its shots carry it: by its bytes now, whoever made them; or why it cannot be. */
async function readSheetReference(image: string): Promise<{ ok: true; reference: PromptReference } | { ok: false; reason: string }> {
  const inspection = await inspectImageFile(image).catch((error: Error) => ({ ok: false as const, reason: error.message }));
  if (!inspection.ok) return { ok: false, reason: inspection.reason };
  return { ok: true, reference: { path: basename(image), sha256: await hashFile(image), mimeType: inspection.mimeType, folder: 'output' } };
}

/**
 * synthesize.sheet: one turnaround sheet per character, made (or found current) before its shots, through the image
 * stage's own code under the executor stage `sheet` (its own jobs, cache and dead letters). A sheet changed by hand
 * in the output folder is kept as it is; each sheet is then read back from the folder, so its bytes (whoever made
 * them) are the reference its shots carry.
 */
export async function makeSheets(
  options: Omit<SynthesizeImagesOptions, 'prompts' | 'records'> & {
    analyzed: readonly AnalyzedImage[];
    templates: PromptTemplates;
    compileSettings: CompileSettings;
    folder: PreparedOutputFolder;
    chunkLabel?: string;
  },
): Promise<SheetsResult> {
  const prompts = compileSheetPrompts({ records: options.analyzed, templates: options.templates, settings: options.compileSettings });
  const records = new Map(options.analyzed.map((entry) => [entry.sourcePath, entry.record]));
  const result = await synthesizeChunk({ ...options, prompts, records, stage: 'sheet', keepEdited: true });
  const sheets = new Map<string, PromptReference>();
  const failures = [...result.failures];
  for (const output of result.outputs) {
    const sheet = await readSheetReference(output.image);
    if (!sheet.ok) {
      failures.push({ sourcePath: output.sourcePath, variant: 1, shot: sheetShotName, key: output.key, reason: `the turnaround sheet ${basename(output.image)} is not a usable image: ${sheet.reason}`, retryable: false, fix: 'Replace the sheet in the output folder with an image, or delete it (and its .json) to have it made again.' });
      continue;
    }
    sheets.set(output.sourcePath, sheet.reference);
  }
  return { sheets, failures, report: result.report, unchanged: result.outputs.filter((output) => output.status === 'unchanged').length };
}

/**
 * What a run with sheets would ask, spending and writing nothing (the dry run's estimate): the sheets not current in
 * the output folder (a sheet changed by hand is current), and the shots, carrying the sheets that are; a shot whose
 * sheet is still to make is a new request whatever it was before, and is left without it (its key is none paid for).
 */
export async function planSheets(options: {
  analyzed: readonly AnalyzedImage[];
  templates: PromptTemplates;
  compileSettings: CompileSettings;
  settings: SynthesizeImagesOptions['settings'];
  backend: string;
  listing: OutputFolderListing;
  prompts: readonly GenerationPrompt[];
}): Promise<{ sheets: PendingEntry[]; prompts: GenerationPrompt[] }> {
  const sheetPrompts = compileSheetPrompts({ records: options.analyzed, templates: options.templates, settings: options.compileSettings });
  const plan = planSynthesis({ prompts: sheetPrompts, settings: options.settings, backend: options.backend, listing: options.listing, keepEdited: true });
  const sheets = new Map<string, PromptReference>();
  for (const output of plan.unchanged) {
    const sheet = await readSheetReference(output.image);
    if (sheet.ok) sheets.set(output.sourcePath, sheet.reference);
  }
  return { sheets: plan.pending, prompts: options.prompts.map((prompt) => { const sheet = sheets.get(prompt.sourceImage.path); return sheet ? attachSheet(prompt, sheet) : prompt; }) };
}

/**
 * The shots with their character's sheet as the first reference; the shots of a character whose sheet failed are
 * not asked (they would be paid for, then asked again with the sheet), each a failure that a rerun mends.
 */
export function carrySheets(options: { prompts: readonly GenerationPrompt[]; sheets: ReadonlyMap<string, PromptReference>; failures: readonly SynthesizeFailure[] }): {
  /** Every prompt, with its sheet where there is one (what the compile checkpoint keeps). */
  prompts: GenerationPrompt[];
  /** The prompts to ask: those with their sheet. */
  asked: GenerationPrompt[];
  waiting: SynthesizeFailure[];
} {
  const prompts: GenerationPrompt[] = [];
  const asked: GenerationPrompt[] = [];
  const waiting: SynthesizeFailure[] = [];
  for (const prompt of options.prompts) {
    const sheet = options.sheets.get(prompt.sourceImage.path);
    if (sheet) {
      const carried = attachSheet(prompt, sheet);
      prompts.push(carried);
      asked.push(carried);
      continue;
    }
    prompts.push(prompt);
    const failed = options.failures.find((failure) => failure.sourcePath === prompt.sourceImage.path);
    waiting.push({
      sourcePath: prompt.sourceImage.path,
      variant: prompt.variant,
      ...(prompt.shot !== undefined ? { shot: prompt.shot } : {}),
      key: prompt.key,
      reason: `not asked: its turnaround sheet was not made (${failed?.reason ?? 'no answer'})`,
      retryable: failed?.retryable ?? true,
      fix: failed?.fix ?? 'Run again: the sheet is asked again, then this shot.',
    });
  }
  return { prompts, asked, waiting };
}
