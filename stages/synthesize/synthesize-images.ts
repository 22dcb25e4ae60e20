import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { GeminiExecutor, ExecuteReport } from '../../pipeline/gemini/gemini-executor.ts';
import { isMissingFileError, type LineOutcome, type RequestLine, type ResponseVerdict } from '../../pipeline/gemini/line-outcome.ts';
import type { ResultLineReader } from '../../pipeline/gemini/read-result-lines.ts';
import type { UploadCandidate, UploadOutcome } from '../../pipeline/gemini/upload-files.ts';
import type { Logger } from '../../pipeline/logger.ts';
import type { AnalysisRecord } from '../../schemas/analysis.ts';
import type { GenerationPrompt } from '../../schemas/generation-prompt.ts';
import { inspectImageFile, type ImageFileInspection } from '../media/inspect-image-file.ts';
import { compareText } from '../shared/compare-text.ts';
import { buildImageRequest, computeImageRequestKey } from './build-image-request.ts';
import { chooseImage, type BlobReference, type ImageChoice } from './choose-image.ts';
import { readImageSidecar } from './image-sidecar.ts';
import { readOutputNames, writeOutputNames } from './output-names-file.ts';
import { formatEntryId, planOutputNames, toBaseName } from './plan-output-names.ts';
import { blobPath, storeInlineData } from './store-inline-data.ts';
import type { SynthesizeSettings } from './synthesize-settings.ts';
import { writeImageOutput } from './write-image-output.ts';

export interface SynthesizeOutput {
  sourcePath: string;
  variant: number;
  key: string;
  image: string;
  sidecar: string;
  /** `unchanged`: the image from an earlier run is still current, nothing was asked or written. */
  status: 'written' | 'unchanged';
}

export interface SynthesizeFailure {
  sourcePath: string;
  variant: number;
  key: string;
  reason: string;
  /** Whether running again could help (a policy block will not). */
  retryable: boolean;
  fix: string;
}

export interface SynthesizeResult {
  outputs: SynthesizeOutput[];
  failures: SynthesizeFailure[];
  warnings: string[];
  report: Pick<ExecuteReport, 'cachedKeys' | 'sentLines' | 'jobsCreated' | 'jobsAdopted'> & { requests: number };
}

export interface SynthesizeImagesOptions {
  prompts: readonly GenerationPrompt[];
  /** Analysis records by source path, copied into each sidecar. */
  records: ReadonlyMap<string, AnalysisRecord>;
  settings: SynthesizeSettings;
  /** Where the source images are, for prompts that send theirs as a reference. */
  inputDirectory: string;
  outputDirectory: string;
  /** The workspace: the names given to outputs are kept there. */
  workspaceDirectory: string;
  /** Where images wait between download and placing (the backend's part of the workspace). */
  blobDirectory: string;
  upload: (candidates: readonly UploadCandidate[], options?: { refresh?: ReadonlySet<string> }) => Promise<Map<string, UploadOutcome>>;
  executor: GeminiExecutor;
  /** Reads batch result files streaming their images into a blob folder (given that folder). */
  createResultReader: (blobDirectory: string) => ResultLineReader;
  /** Names the backend in each sidecar; an output made by another backend is not current. */
  backend: string;
  logger: Logger;
}

type Good<T> = Extract<T, { ok: true }>;

interface PendingEntry {
  prompt: GenerationPrompt;
  baseName: string;
  key: string;
}

const policyFix = 'The model refused this prompt; change the templates or rules for this image (chargen run --from compile), or leave it out.';
const retryFix = 'Run again: images already received are kept and only this one is asked again.';

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

function describeAspectMismatch(options: { prompt: GenerationPrompt; width: number; height: number }): string | undefined {
  const [wide, high] = options.prompt.imageConfig.aspectRatio.split(':').map(Number);
  if (!wide || !high) return undefined;
  const ratio = options.width / options.height;
  const wanted = wide / high;
  if (Math.abs(ratio - wanted) / wanted <= 0.03) return undefined;
  return `asked for ${options.prompt.imageConfig.aspectRatio}, got ${options.width}×${options.height}`;
}

/**
 * What synthesize would do, spending and writing nothing: the name of every output (earlier names kept), the outputs
 * whose sidecar already names the current request and backend, and the rest, still to make.
 */
export async function planSynthesis(options: Pick<SynthesizeImagesOptions, 'prompts' | 'settings' | 'outputDirectory' | 'workspaceDirectory' | 'backend'>): Promise<{
  names: Map<string, string>;
  namesChanged: boolean;
  unchanged: SynthesizeOutput[];
  pending: PendingEntry[];
}> {
  const outputDirectory = resolve(options.outputDirectory);
  const existingFiles = await readdir(outputDirectory).catch(() => [] as string[]);
  const assigned = await readOutputNames({ workspaceDirectory: options.workspaceDirectory, outputDirectory });
  const names = planOutputNames({
    entries: options.prompts.map((prompt) => ({ sourcePath: prompt.sourceImage.path, variant: prompt.variant })),
    assigned,
    existingBaseNames: existingFiles.filter((name) => !name.startsWith('.')).map(toBaseName),
  });
  const unchanged: SynthesizeOutput[] = [];
  const pending: PendingEntry[] = [];
  for (const prompt of options.prompts) {
    const baseName = names.get(formatEntryId({ sourcePath: prompt.sourceImage.path, variant: prompt.variant })) as string;
    const key = computeImageRequestKey({ prompt, settings: options.settings });
    const sidecarPath = join(outputDirectory, `${baseName}.json`);
    const sidecar = await readImageSidecar(sidecarPath);
    if (sidecar?.key === key && sidecar.backend === options.backend && (await fileSize(join(outputDirectory, sidecar.image.file))) === sidecar.image.bytes) {
      unchanged.push({ sourcePath: prompt.sourceImage.path, variant: prompt.variant, key, image: join(outputDirectory, sidecar.image.file), sidecar: sidecarPath, status: 'unchanged' });
    } else {
      pending.push({ prompt, baseName, key });
    }
  }
  return { names, namesChanged: names.size !== assigned.size, unchanged, pending };
}

/**
 * Stage three: prompts in, images and their sidecars out. An output whose sidecar already names the current request
 * is left alone and costs nothing; the rest go through the Gemini layer, whose cache answers anything paid for
 * before. Every failure is per image, with its reason and whether trying again can help.
 */
export async function synthesizeImages(options: SynthesizeImagesOptions): Promise<SynthesizeResult> {
  const { logger } = options;
  const outputDirectory = resolve(options.outputDirectory);
  const { blobDirectory } = options;
  const inspect = createBlobInspector(blobDirectory);
  const outputs: SynthesizeOutput[] = [];
  const failures: SynthesizeFailure[] = [];
  const warnings: string[] = [];
  const fail = (entry: { prompt: GenerationPrompt; key: string }, reason: string, retryable: boolean, fix?: string) => {
    const failure = { sourcePath: entry.prompt.sourceImage.path, variant: entry.prompt.variant, key: entry.key, reason, retryable, fix: fix ?? (retryable ? retryFix : policyFix) };
    failures.push(failure);
    logger.warn(`synthesize: ${failure.sourcePath}${failure.variant > 1 ? ` variant ${failure.variant}` : ''}: ${reason}`);
  };

  // Names first, persisted before anything is written under them.
  await mkdir(outputDirectory, { recursive: true });
  await removeTemporaryFiles(outputDirectory);
  const plan = await planSynthesis({ ...options, outputDirectory });
  if (plan.namesChanged) await writeOutputNames({ workspaceDirectory: options.workspaceDirectory, outputDirectory, names: plan.names });
  outputs.push(...plan.unchanged);
  const { pending } = plan;

  // The Gemini layer adds answers to this as they arrive; what was made before counts at once.
  logger.progress?.({ stage: 'synthesize', done: outputs.length, total: options.prompts.length });
  const lines = await buildLines({ pending, options, fail });
  const report: SynthesizeResult['report'] = { cachedKeys: 0, sentLines: 0, jobsCreated: 0, jobsAdopted: 0, requests: lines.size };
  const outcomes = new Map<string, LineOutcome>();
  const executeLines = async (batch: ReadonlyMap<string, { model: string; line: RequestLine }>) => {
    const byModel = new Map<string, RequestLine[]>();
    for (const [key, { model, line }] of batch) byModel.set(model, [...(byModel.get(model) ?? []), { ...line, key }]);
    for (const [model, modelLines] of byModel) {
      const executed = await options.executor.execute({
        stage: 'synthesize',
        model,
        lines: modelLines,
        validate: (response) => validateImageResponse({ response, inspect }),
        readResults: options.createResultReader(blobDirectory),
        prepareResponse: (response) => storeInlineData({ blobDirectory, response }),
        isCachedUsable: (outcome) => isOutcomeUsable({ outcome, blobDirectory }),
        discardResultFiles: true,
      });
      for (const [key, outcome] of executed.outcomes) outcomes.set(key, outcome);
      report.cachedKeys += executed.cachedKeys;
      report.sentLines += executed.sentLines;
      report.jobsCreated += executed.jobsCreated;
      report.jobsAdopted += executed.jobsAdopted;
    }
  };
  await executeLines(lines);
  // A reference image whose upload expired or was deleted since it was registered: upload it again, ask once more.
  const gone = pending.filter((entry) => {
    const outcome = outcomes.get(entry.key);
    return entry.prompt.useReferenceImage && outcome?.status === 'failed' && isMissingFileError(outcome.error);
  });
  if (gone.length > 0) {
    logger.info(`synthesize: ${gone.length} reference images are gone from the Files API (expired or deleted); uploading them again`);
    const again = await buildLines({ pending: gone, options, fail, refresh: new Set(gone.map((entry) => entry.prompt.sourceImage.sha256)) });
    await executeLines(again);
  }
  logger.info(`synthesize: ${options.prompts.length} images, ${outputs.length} unchanged, ${lines.size} requests (${report.cachedKeys} answered earlier, ${report.sentLines} sent)`);

  const keepBlobs = new Set<string>();
  for (const entry of pending) {
    if (!lines.has(entry.key)) continue;
    const outcome = outcomes.get(entry.key);
    if (!outcome || outcome.status === 'failed') {
      fail(entry, outcome?.reason ?? 'not answered', outcome?.retryable ?? true, outcome?.fix);
      continue;
    }
    const choice = chooseImage(outcome.response);
    const inspection = choice.ok ? await inspect(choice.image.blob) : undefined;
    if (!choice.ok || !inspection?.ok) {
      fail(entry, choice.ok ? `image unusable: ${inspection && !inspection.ok ? inspection.reason : 'unknown'}` : choice.reason, true);
      continue;
    }
    try {
      const written = await writeEntry({ entry, choice, inspection, outcome, options, blobDirectory, outputDirectory, warnings });
      outputs.push({ sourcePath: entry.prompt.sourceImage.path, variant: entry.prompt.variant, key: entry.key, image: written.image, sidecar: written.sidecar, status: 'written' });
    } catch (error) {
      keepBlobs.add(choice.image.blob.sha256);
      if (choice.image.signature) keepBlobs.add(choice.image.signature.sha256);
      fail(entry, `could not write the image: ${(error as Error).message}`, true);
    }
  }
  await sweepBlobs({ blobDirectory, keep: keepBlobs });
  logger.progress?.({ stage: 'synthesize', done: options.prompts.length, total: options.prompts.length });

  const order = (left: { sourcePath: string; variant: number }, right: { sourcePath: string; variant: number }) =>
    compareText(left.sourcePath, right.sourcePath) || left.variant - right.variant;
  return { outputs: outputs.sort(order), failures: failures.sort(order), warnings, report };
}

/** One request per distinct key; a reference image is uploaded (or its earlier upload reused) only when asked. */
async function buildLines(context: {
  pending: readonly PendingEntry[];
  options: SynthesizeImagesOptions;
  fail: (entry: PendingEntry, reason: string, retryable: boolean) => void;
  refresh?: ReadonlySet<string>;
}): Promise<Map<string, { model: string; line: RequestLine }>> {
  const { pending, options, fail } = context;
  const references = new Map<string, UploadCandidate>();
  for (const entry of pending) {
    if (!entry.prompt.useReferenceImage || references.has(entry.prompt.sourceImage.sha256)) continue;
    const path = join(options.inputDirectory, entry.prompt.sourceImage.path);
    const size = await fileSize(path);
    if (size === undefined) continue;
    references.set(entry.prompt.sourceImage.sha256, { path, sha256: entry.prompt.sourceImage.sha256, mimeType: entry.prompt.sourceImage.mimeType, sizeBytes: size, displayName: entry.prompt.sourceImage.path });
  }
  const uploads = references.size > 0 ? await options.upload([...references.values()], context.refresh ? { refresh: context.refresh } : undefined) : new Map<string, UploadOutcome>();
  const lines = new Map<string, { model: string; line: RequestLine }>();
  for (const entry of pending) {
    let referenceFileUri: string | undefined;
    if (entry.prompt.useReferenceImage) {
      const uploaded = uploads.get(entry.prompt.sourceImage.sha256);
      if (uploaded?.status !== 'uploaded') {
        const reason = !references.has(entry.prompt.sourceImage.sha256)
          ? `the reference image ${entry.prompt.sourceImage.path} is missing from the input folder`
          : `the reference image could not be uploaded: ${uploaded?.status === 'failed' ? uploaded.error.message : 'no answer'}`;
        fail(entry, reason, true);
        continue;
      }
      referenceFileUri = uploaded.file.uri;
    }
    const line = buildImageRequest({ prompt: entry.prompt, settings: options.settings, ...(referenceFileUri !== undefined ? { referenceFileUri } : {}) });
    if (!lines.has(line.key)) lines.set(line.key, { model: entry.prompt.model, line });
  }
  return lines;
}

/** A response is kept only when its chosen image is really an image: magic bytes, dimensions, an intact end. */
/**
 * Inspects each stored image once: the check that accepts an answer and the placing of its image both need it. A
 * file that cannot be read is an unusable image, not an exception.
 */
function createBlobInspector(blobDirectory: string): (blob: BlobReference) => Promise<ImageFileInspection> {
  const inspections = new Map<string, Promise<ImageFileInspection>>();
  return (blob) => {
    let inspection = inspections.get(blob.sha256);
    if (!inspection) {
      inspection = inspectImageFile(blobPath({ blobDirectory, blob })).catch((error: Error): ImageFileInspection => ({ ok: false, reason: error.message }));
      inspections.set(blob.sha256, inspection);
    }
    return inspection;
  };
}

async function validateImageResponse(options: { response: Record<string, unknown>; inspect: (blob: BlobReference) => Promise<ImageFileInspection> }): Promise<ResponseVerdict> {
  const choice = chooseImage(options.response);
  if (!choice.ok) return choice;
  const inspection = await options.inspect(choice.image.blob);
  if (!inspection.ok) return { ok: false, reason: `image part ${choice.image.index} is not a usable image: ${inspection.reason}`, retryable: true };
  return { ok: true };
}

async function isOutcomeUsable(options: { outcome: LineOutcome; blobDirectory: string }): Promise<boolean> {
  if (options.outcome.status !== 'succeeded') return true;
  const choice = chooseImage(options.outcome.response);
  if (!choice.ok) return false;
  // The image and its signature are placed together: an answer whose signature is gone is asked again.
  const blobs = [choice.image.blob, ...(choice.image.signature ? [choice.image.signature] : [])];
  for (const blob of blobs) {
    if ((await fileSize(blobPath({ blobDirectory: options.blobDirectory, blob }))) !== blob.bytes) return false;
  }
  return true;
}

async function writeEntry(context: {
  entry: PendingEntry;
  choice: Good<ImageChoice>;
  inspection: Good<ImageFileInspection>;
  outcome: Extract<LineOutcome, { status: 'succeeded' }>;
  options: SynthesizeImagesOptions;
  blobDirectory: string;
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
  const analysis = options.records.get(entry.prompt.sourceImage.path);
  const previous = await readImageSidecar(join(context.outputDirectory, `${entry.baseName}.json`));
  return writeImageOutput({
    outputDirectory: context.outputDirectory,
    baseName: entry.baseName,
    blobDirectory: context.blobDirectory,
    choice,
    inspection,
    keepThoughts: options.settings.keepThoughts,
    ...(previous ? { previous } : {}),
    sidecar: {
      key: entry.key,
      backend: options.backend,
      source: { path: entry.prompt.sourceImage.path, sha256: entry.prompt.sourceImage.sha256, variant: entry.prompt.variant },
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

/** Images wait in the blob folder only until they are placed; what is left (thought images, unused lines) goes. */
async function sweepBlobs(options: { blobDirectory: string; keep: ReadonlySet<string> }): Promise<void> {
  const names = await readdir(options.blobDirectory).catch(() => [] as string[]);
  for (const name of names) {
    if (!options.keep.has(name)) await rm(join(options.blobDirectory, name), { force: true });
  }
}
