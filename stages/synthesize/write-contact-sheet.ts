import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { GenerationPrompt } from '../../schemas/generation-prompt.ts';
import { readAnalyzedImagePages, readAnalyzeFailuresFrom } from '../analyze/analysis-checkpoint.ts';
import type { AnalyzeFailure } from '../analyze/analysis-result.ts';
import { readCheckpointStore } from '../../lib/store/checkpoint-store.ts';
import { readPromptsCheckpoint } from '../compile/prompts-checkpoint.ts';
import { compareText } from '../../lib/compare-text.ts';
import { readImageSidecar } from './image-sidecar.ts';
import { formatEntryId } from './core/plan-output-names.ts';
import { readSynthesizeCheckpoint, type SynthesizeCheckpoint } from './synthesize-checkpoint.ts';
import { mapWithConcurrency } from '../../lib/map-with-concurrency.ts';
import { writeFileAtomic } from '../../lib/store/atomic-file.ts';
import { renderContactSheet, unescapeHtml, type ContactSheetEntry, type ContactSheetFailure, type RelativeFilePath } from './render-contact-sheet.ts';

export { escapeHtml, formatRelativeHref, formatReadableTime, renderContactSheet, type ContactSheetEntry, type ContactSheetFailure, type RelativeFilePath } from './render-contact-sheet.ts';

export const contactSheetFileName = 'index.html';

type CheckpointOutput = SynthesizeCheckpoint['outputs'][number];

function readGeneratedAt(document: string): string | undefined {
  const match = /<meta name="generated-at" content="([^"]*)">/.exec(document);
  return match?.[1] === undefined ? undefined : unescapeHtml(match[1]);
}

function toRelativeFilePath(options: { from: string; to: string }): RelativeFilePath {
  return relative(options.from, options.to).split(sep);
}

function compareByPlace(left: { sourcePath: string; variant: number }, right: { sourcePath: string; variant: number }): number {
  return compareText(left.sourcePath, right.sourcePath) || left.variant - right.variant;
}

/**
 * What one output shows. Its sidecar says everything; one that is missing, unreadable or for another request leaves
 * the image listed with what the checkpoint knows, and the prompt compiled for that source and variant, if any.
 */
async function buildEntry(options: {
  output: CheckpointOutput;
  inputDirectory: string;
  outputDirectory: string;
  readPrompts: () => Promise<ReadonlyMap<string, GenerationPrompt>>;
  sourceMimeType: string | undefined;
  /** The picture shown for the source: a folder character's first reference (its own path for an image). */
  sourceFile: string | undefined;
}): Promise<ContactSheetEntry> {
  const { output, outputDirectory } = options;
  const place = {
    sourcePath: output.sourcePath,
    variant: output.variant,
    image: [output.image],
    source: toRelativeFilePath({ from: outputDirectory, to: join(options.inputDirectory, options.sourceFile ?? output.sourcePath) }),
    ...(options.sourceMimeType ? { sourceMimeType: options.sourceMimeType } : {}),
  };
  const sidecar = await readImageSidecar(join(outputDirectory, output.sidecar));
  if (sidecar?.key === output.key) {
    return {
      ...place,
      ...(sidecar.source?.shot !== undefined ? { shot: sidecar.source.shot } : {}),
      ...(sidecar.seed !== undefined ? { seed: sidecar.seed.value } : {}),
      ...(sidecar.prompt !== undefined ? { prompt: sidecar.prompt } : {}),
      ...(sidecar.model !== undefined ? { model: sidecar.model } : {}),
      ...(sidecar.imageConfig !== undefined ? { imageConfig: sidecar.imageConfig } : {}),
      width: sidecar.image.width,
      height: sidecar.image.height,
      warnings: sidecar.warnings,
    };
  }
  const compiled = (await options.readPrompts()).get(formatEntryId(output));
  const warnings = [`its sidecar ${output.sidecar} is missing or does not describe this image${compiled ? '; the prompt shown is the one compiled now' : ''}`];
  return compiled ? { ...place, prompt: compiled.prompt, model: compiled.model, imageConfig: compiled.imageConfig, warnings } : { ...place, warnings };
}

/** Inputs that failed analysis, then images that failed, each in the order of their sources. */
function listFailures(options: { analysis: { failures: AnalyzeFailure[] } | undefined; synthesis: SynthesizeCheckpoint; inputDirectory: string; outputDirectory: string }): ContactSheetFailure[] {
  const source = (sourcePath: string) => toRelativeFilePath({ from: options.outputDirectory, to: join(options.inputDirectory, sourcePath) });
  const analysisFailures = [...(options.analysis?.failures ?? [])]
    .sort((left, right) => compareText(left.sourcePath, right.sourcePath))
    .map((failure): ContactSheetFailure => ({ stage: 'analyze', sourcePath: failure.sourcePath, reason: failure.reason, retryable: failure.retryable === true, fix: failure.fix, source: source(failure.sourcePath) }));
  const imageFailures = [...options.synthesis.failures].sort(compareByPlace).map(
    (failure): ContactSheetFailure => ({
      stage: 'synthesize',
      sourcePath: failure.sourcePath,
      variant: failure.variant,
      ...(failure.shot !== undefined ? { shot: failure.shot } : {}),
      reason: failure.reason,
      retryable: failure.retryable,
      fix: failure.fix,
      source: source(failure.sourcePath),
    }),
  );
  return [...analysisFailures, ...imageFailures];
}

function readOptional<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** Files writeFileAtomic leaves when a run is killed mid-write; the workspace lock says no other run is writing now. */
async function removeTemporarySheets(outputDirectory: string): Promise<void> {
  const pattern = new RegExp(`^\\.${contactSheetFileName.replace('.', '\\.')}\\.[0-9a-f]{12}\\.tmp$`);
  for (const name of await readdir(outputDirectory).catch(() => [] as string[])) {
    if (pattern.test(name)) await rm(join(outputDirectory, name), { force: true });
  }
}

/** Images a contact sheet shows at most: a page of about 4 MB that a browser opens at once. */
export const contactSheetMaxImages = 2_000;

/**
 * Writes `index.html` in the output folder from the synthesize checkpoint and the sidecars (and the analysis checkpoint's
 * failures and formats); nothing (undefined) when
 * there is no checkpoint. A sheet that would differ only in its time is left alone, so a run with nothing to do
 * changes nothing in the output folder.
 */
export async function writeContactSheet(options: {
  workspaceDirectory: string;
  inputDirectory: string;
  outputDirectory: string;
  now: () => number;
  /** Images shown at most (in the order of their sources); the page counts the rest and points to `chargen ui`. */
  maxImages?: number;
}): Promise<{ path: string; entries: number } | undefined> {
  const checkpoint = await readSynthesizeCheckpoint(options.workspaceDirectory);
  if (!checkpoint) return undefined;
  const { outputDirectory, inputDirectory } = options;
  let prompts: Promise<ReadonlyMap<string, GenerationPrompt>> | undefined;
  // Read only when a sidecar is missing; a damaged prompts file just means no prompt on the sheet.
  const readPrompts = () =>
    (prompts ??= readPromptsCheckpoint(options.workspaceDirectory)
      .catch(() => undefined)
      .then((checkpoint) => new Map((checkpoint?.prompts ?? []).map((prompt) => [formatEntryId({ sourcePath: prompt.sourceImage.path, variant: prompt.variant }), prompt]))));
  // Not needed for the sheet to be written: a damaged analysis checkpoint only leaves its failures and formats out.
  // Its records are read a page at a time, keeping only their formats.
  const analysis = readOptional(() =>
    readCheckpointStore(options.workspaceDirectory, (store) => {
      const mimeTypes = new Map<string, string>();
      const sourceFiles = new Map<string, string>();
      for (const records of readAnalyzedImagePages(store)) {
        for (const record of records) {
          mimeTypes.set(record.sourcePath, record.mimeType);
          sourceFiles.set(record.sourcePath, record.references?.[0]?.path ?? record.sourcePath);
        }
      }
      return { mimeTypes, sourceFiles, failures: readAnalyzeFailuresFrom(store) };
    }),
  );
  const mimeTypes = analysis?.mimeTypes ?? new Map<string, string>();
  const entries = await mapWithConcurrency({
    // The first ones only: a page of every image of a large run (100,000 prompts, a few hundred MB of HTML) would
    // neither open in a browser nor fit the run's memory.
    items: [...checkpoint.outputs].sort(compareByPlace).slice(0, options.maxImages ?? contactSheetMaxImages),
    concurrency: 16,
    work: (output) => buildEntry({ output, inputDirectory, outputDirectory, readPrompts, sourceMimeType: mimeTypes.get(output.sourcePath), sourceFile: analysis?.sourceFiles.get(output.sourcePath) }),
  });
  const failures = listFailures({ analysis, synthesis: checkpoint, inputDirectory, outputDirectory });
  const content = { title: `chargen: ${basename(outputDirectory)}`, entries, failures, totalImages: checkpoint.outputs.length };
  const path = join(outputDirectory, contactSheetFileName);

  await removeTemporarySheets(outputDirectory);
  const previous = await readFile(path).catch(() => undefined);
  if (previous !== undefined && !previous.includes('<meta name="generator" content="chargen">')) {
    // An index.html of the user's own (an output folder shared with a site, say) is never written over.
    throw new Error(`${path} is not a chargen contact sheet, so it is left as it is; move it away to get one`);
  }
  const previousGeneratedAt = previous === undefined ? undefined : readGeneratedAt(previous.toString('utf8'));
  // Bytes, not strings: a lone surrogate in a prompt is written as U+FFFD and would never compare equal as text.
  if (previous !== undefined && previousGeneratedAt !== undefined && Buffer.from(renderContactSheet({ ...content, generatedAt: previousGeneratedAt })).equals(previous)) {
    return { path, entries: entries.length };
  }
  await writeFileAtomic(path, renderContactSheet({ ...content, generatedAt: new Date(options.now()).toISOString() }));
  return { path, entries: entries.length };
}
