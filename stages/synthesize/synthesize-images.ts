import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LineOutcome } from '../../lib/gemini/line-outcome.ts';
import { reportStageSummary } from '../../lib/logger.ts';
import { formatCount } from '../../lib/format-count.ts';
import { formatList } from '../../lib/format-list.ts';
import { listPromptReferences, type GenerationPrompt } from '../../schemas/generation-prompt.ts';
import type { ImageFileInspection } from '../../lib/media/inspect-image-file.ts';
import { compareText } from '../../lib/compare-text.ts';
import type { ImageChoice } from './core/choose-image.ts';
import { readImageSidecar } from './image-sidecar.ts';
import { describeOutputEntry, toOutputEntry } from './core/plan-output-names.ts';
import { planSynthesis, type PendingEntry } from './core/plan-synthesis.ts';
import { prepareOutputFolder, type PreparedOutputFolder } from './prepare-output-folder.ts';
import { preferAnsweredRequests } from './prefer-answered-requests.ts';
import { buildLines, createBlobInspector, createImageChooser, executeLines } from './request-images.ts';
import type { SynthesisFolders, SynthesizeFailure, SynthesizeImagesOptions, SynthesizeOutput, SynthesizeResult } from './synthesize-images-options.ts';
import { sumOf } from '../../lib/sum-of.ts';
import { runChunksWithinBudget, takeChunkResults, type StageChunking } from '../../lib/gemini/run-chunks-within-budget.ts';

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
  const result = options.chunking
    ? await synthesizeInChunks({ ...options, chunking: options.chunking }, folder)
    : await synthesizeChunk({ ...options, folder, onUnchanged: (unchanged) => options.logger.progress?.({ stage: 'synthesize', done: unchanged, total }) });
  options.logger.progress?.({ stage: 'synthesize', done: total, total });
  const order = (left: { sourcePath: string; variant: number }, right: { sourcePath: string; variant: number }) =>
    compareText(left.sourcePath, right.sourcePath) || left.variant - right.variant;
  return { ...result, outputs: result.outputs.sort(order), failures: result.failures.sort(order) };
}

/**
 * The prompts a character at a time, in chunks whose references fit half the images' part of the storage budget (one
 * chunk's go up while another's are held): each chunk's references are uploaded, its images made, and its uploads
 * deleted before the budget lets more chunks start. The first chunk that stops for good stops the stage.
 */
async function synthesizeInChunks(options: SynthesizeImagesOptions & { chunking: StageChunking }, folder: PreparedOutputFolder): Promise<SynthesizeResult> {
  const { chunking } = options;
  options.logger.progress?.({ stage: 'synthesize', done: 0, total: options.prompts.length });
  const ends = await runChunksWithinBudget({
    items: await groupByCharacter(options.prompts, options.folders),
    maxItemsPerChunk: chunking.maxCharacters,
    concurrency: chunking.concurrency,
    storage: chunking.storage,
    sizeOf: (character) => character.bytes,
    uploadsOf: (character) => character.uploads,
    releaseUploads: chunking.releaseUploads,
    work: (chunk, { label }) => {
      const onUnchanged = (count: number) => (count > 0 ? options.logger.progress?.({ stage: 'synthesize', withoutRequest: count }) : undefined);
      return synthesizeChunk({ ...options, prompts: chunk.flatMap((character) => character.prompts), folder, onUnchanged, ...(label ? { chunkLabel: label } : {}) });
    },
  });
  const results = takeChunkResults(ends, { stage: options.stage ?? 'synthesize' });
  return {
    outputs: results.flatMap((result) => result.outputs),
    failures: results.flatMap((result) => result.failures),
    warnings: results.flatMap((result) => result.warnings),
    report: {
      cachedKeys: sumOf(results, (result) => result.report.cachedKeys),
      sentLines: sumOf(results, (result) => result.report.sentLines),
      jobsCreated: sumOf(results, (result) => result.report.jobsCreated),
      jobsAdopted: sumOf(results, (result) => result.report.jobsAdopted),
      requests: sumOf(results, (result) => result.report.requests),
    },
  };
}

/** One character's prompts, the uploads (sha256) their requests carry and those files' bytes. */
interface CharacterPrompts {
  prompts: GenerationPrompt[];
  uploads: string[];
  bytes: number;
}

async function groupByCharacter(prompts: readonly GenerationPrompt[], folders: SynthesisFolders): Promise<CharacterPrompts[]> {
  const byCharacter = new Map<string, CharacterPrompts>();
  const sizes = new Map<string, number>();
  for (const prompt of prompts) {
    const character = byCharacter.get(prompt.sourceImage.path) ?? { prompts: [], uploads: [], bytes: 0 };
    byCharacter.set(prompt.sourceImage.path, character);
    character.prompts.push(prompt);
    for (const reference of listPromptReferences(prompt)) {
      if (character.uploads.includes(reference.sha256)) continue;
      character.uploads.push(reference.sha256);
      if (!sizes.has(reference.sha256)) {
        const path = join(reference.folder === 'output' ? folders.output : folders.input, reference.path);
        sizes.set(reference.sha256, (await stat(path).catch(() => undefined))?.size ?? 0);
      }
      character.bytes += sizes.get(reference.sha256) ?? 0;
    }
  }
  return [...byCharacter.values()];
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
