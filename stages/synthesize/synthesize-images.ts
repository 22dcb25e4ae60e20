import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { LineOutcome } from '../../lib/gemini/line-outcome.ts';
import { reportStageSummary, type Logger } from '../../lib/logger.ts';
import { formatCount } from '../../lib/format-count.ts';
import { formatList } from '../../lib/format-list.ts';
import { listPromptReferences, type GenerationPrompt } from '../../schemas/generation-prompt.ts';
import type { ImageFileInspection } from '../../lib/media/inspect-image-file.ts';
import { compareText } from '../../lib/compare-text.ts';
import type { ImageChoice } from './core/choose-image.ts';
import { readImageSidecar } from './image-sidecar.ts';
import { writeOutputNames } from './output-names.ts';
import { describeOutputEntry, toBaseName, toOutputEntry, type OutputEntry } from './core/plan-output-names.ts';
import { listOutputFolder, type OutputFolderListing } from './list-output-folder.ts';
import { planOutputFolder, planSynthesis, type PendingEntry } from './core/plan-synthesis.ts';
import type { EarlierOutput } from './read-earlier-outputs.ts';
import { preferAnsweredRequests } from './prefer-answered-requests.ts';
import { buildLines, createBlobInspector, createImageChooser, executeLines } from './request-images.ts';
import type { SynthesisFolders, SynthesizeFailure, SynthesizeImagesOptions, SynthesizeOutput, SynthesizeResult } from './synthesize-images-options.ts';

export type { SynthesizeFailure, SynthesizeImagesOptions, SynthesizeOutput, SynthesizeResult };
import { writeImageOutput } from './write-image-output.ts';

type Good<T> = Extract<T, { ok: true }>;

const policyFix = 'The model refused this prompt; change the templates or rules for this image (chargen run --from compile), or leave it out.';
const retryFix = 'Run again: images already received are kept and only this one is asked again.';

function describeAspectMismatch(options: { prompt: GenerationPrompt; width: number; height: number }): string | undefined {
  const [wide, high] = options.prompt.imageConfig.aspectRatio.split(':').map(Number);
  if (!wide || !high) return undefined;
  const ratio = options.width / options.height;
  const wanted = wide / high;
  if (Math.abs(ratio - wanted) / wanted <= 0.03) return undefined;
  return `asked for ${options.prompt.imageConfig.aspectRatio}, got ${options.width}×${options.height}`;
}

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
 * Stage three: prompts in, images and their sidecars out. An output whose sidecar already names the current request
 * is left alone and costs nothing; the rest go through the Gemini layer, whose cache answers anything paid for
 * before, and are placed from the workspace's store of received images (kept there for as long as the workspace
 * lives, so a change undone or another output folder never pays twice). Every failure is per image, with its reason
 * and whether trying again can help.
 */
export async function synthesizeImages(options: SynthesizeImagesOptions): Promise<SynthesizeResult> {
  const entries = options.prompts.map(toOutputEntry);
  const folder = await prepareOutputFolder({ entries, folders: options.folders, logger: options.logger });
  const total = options.prompts.length;
  const result = await synthesizeChunk({ ...options, folder, onUnchanged: (unchanged) => options.logger.progress?.({ stage: 'synthesize', done: unchanged, total }) });
  options.logger.progress?.({ stage: 'synthesize', done: total, total });
  const order = (left: { sourcePath: string; variant: number }, right: { sourcePath: string; variant: number }) =>
    compareText(left.sourcePath, right.sourcePath) || left.variant - right.variant;
  return { ...result, outputs: result.outputs.sort(order), failures: result.failures.sort(order) };
}

/**
 * Some prompts of a run (all, or one chunk's) in a folder prepared for them: the outputs still current counted, the
 * rest asked for (or answered from the store) and placed under their planned names.
 */
export async function synthesizeChunk(options: SynthesizeImagesOptions & {
  folder: PreparedOutputFolder;
  /** Told how many outputs are current already, before anything is asked. */
  onUnchanged?: (count: number) => void;
  /** Said after the stage's summary line, when the prompts are one chunk of several (`chunk 2 of 8`). */
  chunkLabel?: string;
}): Promise<SynthesizeResult> {
  const { logger } = options;
  const { outputDirectory } = options.folder;
  const outputs: SynthesizeOutput[] = [];
  const failures: SynthesizeFailure[] = [];
  const warnings: string[] = [];
  const fail = (entry: { prompt: GenerationPrompt; key: string }, reason: string, retryable: boolean, fix?: string) => {
    const failure = { sourcePath: entry.prompt.sourceImage.path, variant: entry.prompt.variant, ...(entry.prompt.shot !== undefined ? { shot: entry.prompt.shot } : {}), key: entry.key, reason, retryable, fix: fix ?? (retryable ? retryFix : policyFix) };
    failures.push(failure);
    logger.warn(`synthesize: ${describeOutputEntry(toOutputEntry(entry.prompt))}: ${reason}`);
  };
  for (const warning of describeLeftOutReferences(options.prompts)) {
    warnings.push(warning);
    logger.warn(`synthesize: ${warning}`);
  }
  // Names were planned for the whole run; the doubles were removed with the folder's preparation.
  const plan = planSynthesis({ prompts: options.prompts, settings: options.settings, backend: options.backend.identity, listing: options.folder.listing, ...(options.keepEdited ? { keepEdited: true } : {}) });
  outputs.push(...plan.unchanged);
  const pending = await preferAnsweredRequests({ pending: plan.pending, executor: options.backend.executor, ...(options.stage ? { stage: options.stage } : {}) });
  options.onUnchanged?.(outputs.length);
  const { placed, report } = await requestAndPlace({
    ...options,
    pending,
    outputDirectory,
    fail,
    warnings,
    onExecuted: (requests, executed) =>
      reportStageSummary(logger, {
        stage: 'synthesize',
        summary: `${options.stage ?? 'synthesize'}: ${formatCount(options.prompts.length, options.stage === 'sheet' ? 'turnaround sheet' : 'image')}, ${outputs.length} unchanged, ${formatCount(requests, 'request')} (${executed.cachedKeys} answered earlier, ${executed.sentLines} sent)${options.chunkLabel ? ` (${options.chunkLabel})` : ''}`,
      }),
  });
  outputs.push(...placed);
  return { outputs, failures, warnings, report };
}

type FailEntry = (entry: PendingEntry, reason: string, retryable: boolean, fix?: string) => void;

/**
 * Asks for the pending entries through the executor (whose cache answers anything paid for before) and places each
 * image and its sidecar under the entry's base name in `outputDirectory`; every entry not placed is told to `fail`.
 * The stage's own run and the artist's versions (chargen ui, into the workspace's versions folder) both place here.
 */
export async function requestAndPlace(options: SynthesizeImagesOptions & {
  pending: readonly PendingEntry[];
  outputDirectory: string;
  fail: FailEntry;
  warnings: string[];
  /** Told once the requests are answered, before any image is placed. */
  onExecuted?: (requests: number, report: SynthesizeResult['report']) => void;
}): Promise<{ placed: SynthesizeOutput[]; report: SynthesizeResult['report'] }> {
  const { pending, fail, outputDirectory, warnings } = options;
  const inspect = createBlobInspector(options.backend.blobDirectory);
  const choose = createImageChooser();
  const lines = await buildLines({ pending, options, fail });
  const { outcomes, report } = await executeLines({ lines, pending, options, inspect, choose, fail });
  options.onExecuted?.(lines.size, report);
  const placed: SynthesizeOutput[] = [];
  for (const entry of pending) {
    if (!lines.has(entry.key)) continue;
    const outcome = outcomes.get(entry.key);
    if (!outcome || outcome.status === 'failed') {
      fail(entry, outcome?.reason ?? 'not answered', outcome?.retryable ?? true, outcome?.fix);
      continue;
    }
    const choice = choose(outcome.response);
    const inspection = choice.ok ? await inspect(choice.image.blob) : undefined;
    if (!choice.ok || !inspection?.ok) {
      fail(entry, choice.ok ? `image unusable: ${inspection && !inspection.ok ? inspection.reason : 'unknown'}` : choice.reason, true);
      continue;
    }
    try {
      const written = await writeEntry({ entry, choice, inspection, outcome, options, outputDirectory, warnings });
      placed.push({ sourcePath: entry.prompt.sourceImage.path, variant: entry.prompt.variant, key: entry.key, image: written.image, sidecar: written.sidecar, status: 'written' });
    } catch (error) {
      fail(entry, `could not write the image: ${(error as Error).message}`, true);
    }
  }
  return { placed, report };
}

/** One warning per character whose references pass the image model's limit, naming the ones its requests leave out. */
function describeLeftOutReferences(prompts: readonly GenerationPrompt[]): string[] {
  const said = new Set<string>();
  const warnings: string[] = [];
  for (const prompt of prompts) {
    if (!prompt.leftOutReferences || said.has(prompt.sourceImage.path)) continue;
    said.add(prompt.sourceImage.path);
    const carried = listPromptReferences(prompt).length;
    warnings.push(`${prompt.sourceImage.path}: ${carried + prompt.leftOutReferences.length} references, ${prompt.model} takes ${carried} (its maxReferenceImages); left out: ${formatList(prompt.leftOutReferences)}`);
  }
  return warnings;
}

async function writeEntry(context: {
  entry: PendingEntry;
  choice: Good<ImageChoice>;
  inspection: Good<ImageFileInspection>;
  outcome: Extract<LineOutcome, { status: 'succeeded' }>;
  options: SynthesizeImagesOptions;
  outputDirectory: string;
  warnings: string[];
}) {
  const { entry, choice, inspection, options } = context;
  const entryWarnings: string[] = [];
  if (choice.onlyThoughts) entryWarnings.push('the response had only thought-flagged images; the last of them was kept');
  const mismatch = describeAspectMismatch({ prompt: entry.prompt, width: inspection.width, height: inspection.height });
  if (mismatch) entryWarnings.push(mismatch);
  for (const warning of entryWarnings) {
    context.warnings.push(`${entry.prompt.sourceImage.path}: ${warning}`);
    options.logger.warn(`synthesize: ${entry.prompt.sourceImage.path}: ${warning}`);
  }
  const usage = context.outcome.response['usageMetadata'];
  const references = listPromptReferences(entry.prompt);
  const analysis = options.records.get(entry.prompt.sourceImage.path);
  const previous = await readImageSidecar(join(context.outputDirectory, `${entry.baseName}.json`));
  return writeImageOutput({
    outputDirectory: context.outputDirectory,
    baseName: entry.baseName,
    blobDirectory: options.backend.blobDirectory,
    choice,
    inspection,
    keepThoughts: options.settings.keepThoughts,
    ...(previous ? { previous } : {}),
    sidecar: {
      key: entry.key,
      backend: options.backend.identity,
      source: { path: entry.prompt.sourceImage.path, sha256: entry.prompt.sourceImage.sha256, variant: entry.prompt.variant, ...(entry.prompt.shot !== undefined ? { shot: entry.prompt.shot } : {}) },
      ...(entry.prompt.seed ? { seed: entry.prompt.seed } : {}),
      ...(references.length > 0 ? { references: references.map((reference) => ({ path: reference.path, sha256: reference.sha256 })) } : {}),
      ...(analysis ? { analysis } : {}),
      prompt: entry.prompt.prompt,
      model: entry.prompt.model,
      imageConfig: entry.prompt.imageConfig,
      finishReason: choice.finishReason,
      ...(typeof usage === 'object' && usage !== null && !Array.isArray(usage) ? { usage: usage as Record<string, unknown> } : {}),
      textParts: choice.textParts,
      warnings: entryWarnings,
    },
  });
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
