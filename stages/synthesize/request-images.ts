import { join } from 'node:path';
import { blobPath } from '../../lib/gemini/blob-file.ts';
import { executeWithReupload } from '../../lib/gemini/execute-with-reupload.ts';
import { type LineOutcome, type RequestLine, type ResponseVerdict } from '../../lib/gemini/line-outcome.ts';
import type { UploadCandidate, UploadOutcome } from '../../lib/gemini/upload-files.ts';
import { inspectImageFile, type ImageFileInspection } from '../../lib/media/inspect-image-file.ts';
import type { BlobReference } from '../../schemas/blob-reference.ts';
import { listPromptReferences } from '../../schemas/generation-prompt.ts';
import { buildImageRequest } from './core/build-image-request.ts';
import { createStoredAnswerCheck } from './check-stored-answer.ts';
import { chooseImage, type ImageChoice } from './core/choose-image.ts';
import { fileSize } from './list-output-folder.ts';
import type { PendingEntry } from './core/plan-synthesis.ts';
import { describeOutputEntry, toOutputEntry } from './core/plan-output-names.ts';
import { storeInlineData } from './store-inline-data.ts';
import type { SynthesizeImagesOptions, SynthesizeResult } from './synthesize-images-options.ts';

function describeEntry(entry: PendingEntry): string {
  return describeOutputEntry(toOutputEntry(entry.prompt));
}

/**
 * Sends what no stored answer covers, model by model; answers received before are used only when their files in the
 * store are intact (else asked again, and said so). A reference image whose upload expired or was deleted since it
 * was registered is uploaded again and its request asked once more.
 */
export async function executeLines(context: {
  lines: ReadonlyMap<string, { model: string; line: RequestLine }>;
  pending: readonly PendingEntry[];
  options: SynthesizeImagesOptions;
  inspect: (blob: BlobReference) => Promise<ImageFileInspection>;
  /** The run's image choice (see createImageChooser): the check of an answer and its placing share it. */
  choose: (response: Record<string, unknown>) => ImageChoice;
  fail: (entry: PendingEntry, reason: string, retryable: boolean) => void;
}): Promise<{ outcomes: Map<string, LineOutcome>; report: SynthesizeResult['report'] }> {
  const { pending, options, inspect, choose } = context;
  const { logger } = options;
  const { blobDirectory } = options.backend;
  const descriptions = new Map(pending.map((entry) => [entry.key, describeEntry(entry)]));
  const storedAnswers = createStoredAnswerCheck({ blobDirectory, keepThoughts: options.settings.keepThoughts, describeKey: (key) => descriptions.get(key) ?? key, logger, choose });
  const report: SynthesizeResult['report'] = { cachedKeys: 0, sentLines: 0, jobsCreated: 0, jobsAdopted: 0, requests: context.lines.size };
  const execute = async (batch: ReadonlyMap<string, { model: string; line: RequestLine }>) => {
    const byModel = new Map<string, RequestLine[]>();
    for (const [key, { model, line }] of batch) {
      const modelLines = byModel.get(model) ?? [];
      modelLines.push({ ...line, key });
      byModel.set(model, modelLines);
    }
    const outcomes = new Map<string, LineOutcome>();
    for (const [model, modelLines] of byModel) {
      const executed = await options.backend.executor.execute({
        stage: options.stage ?? 'synthesize',
        model,
        lines: modelLines,
        validate: (response) => validateImageResponse({ response, inspect, choose }),
        readResults: options.backend.createResultReader(blobDirectory),
        prepareResponse: (response) => storeInlineData({ blobDirectory, response }),
        isCachedUsable: (outcome) => storedAnswers.isUsable(outcome),
      });
      for (const [key, outcome] of executed.outcomes) outcomes.set(key, outcome);
      report.cachedKeys += executed.cachedKeys;
      report.sentLines += executed.sentLines;
      report.jobsCreated += executed.jobsCreated;
      report.jobsAdopted += executed.jobsAdopted;
    }
    return outcomes;
  };
  const outcomes = await executeWithReupload({
    items: pending,
    send: async (entries, refresh) => execute(refresh ? await buildLines({ pending: entries, options, fail: context.fail, refresh }) : context.lines),
    keyOf: (entry) => entry.key,
    uploadOf: (entry) => listPromptReferences(entry.prompt).map((reference) => reference.sha256),
    onReupload: (count) => logger.info(`synthesize: ${count} reference images are gone from the Files API (expired or deleted); uploading them again`),
  });
  const missing = storedAnswers.countMissing();
  if (missing > 0) logger.info(`synthesize: ${missing} answers received earlier had no image left in the workspace (dropped by \`chargen clean --answers\`, or from before images were kept); they were asked again`);
  return { outcomes, report };
}

/** One request per distinct key; a character's references are uploaded (or their earlier uploads reused) only when asked. */
export async function buildLines(context: {
  pending: readonly PendingEntry[];
  options: SynthesizeImagesOptions;
  fail: (entry: PendingEntry, reason: string, retryable: boolean) => void;
  refresh?: ReadonlySet<string>;
}): Promise<Map<string, { model: string; line: RequestLine }>> {
  const { pending, options, fail } = context;
  const candidates = new Map<string, UploadCandidate>();
  const missing = new Map<string, string>();
  for (const entry of pending) {
    for (const reference of listPromptReferences(entry.prompt)) {
      if (candidates.has(reference.sha256) || missing.has(reference.sha256)) continue;
      const path = join(reference.folder === 'output' ? options.folders.output : options.folders.input, reference.path);
      const size = await fileSize(path);
      if (size === undefined) missing.set(reference.sha256, `${reference.path}${reference.folder === 'output' ? ' (the turnaround sheet)' : ''}`);
      else candidates.set(reference.sha256, { path, sha256: reference.sha256, mimeType: reference.mimeType, sizeBytes: size, displayName: reference.path });
    }
  }
  const uploads = candidates.size > 0 ? await options.backend.upload([...candidates.values()], context.refresh ? { refresh: context.refresh } : undefined) : new Map<string, UploadOutcome>();
  const lines = new Map<string, { model: string; line: RequestLine }>();
  for (const entry of pending) {
    const references = listPromptReferences(entry.prompt);
    const uris: string[] = [];
    for (const reference of references) {
      const uploaded = uploads.get(reference.sha256);
      if (uploaded?.status === 'uploaded') {
        uris.push(uploaded.file.uri);
        continue;
      }
      const reason = missing.has(reference.sha256)
        ? `the reference image ${missing.get(reference.sha256)} is missing from the ${reference.folder === 'output' ? 'output' : 'input'} folder`
        : `the reference image ${reference.path} could not be uploaded: ${uploaded?.status === 'failed' ? uploaded.error.message : 'no answer'}`;
      fail(entry, reason, true);
      break;
    }
    if (uris.length < references.length) continue;
    const line = buildImageRequest({ prompt: entry.prompt, settings: options.settings, ...(references.length > 0 ? { referenceFileUris: uris } : {}) });
    if (!lines.has(line.key)) lines.set(line.key, { model: entry.prompt.model, line });
  }
  return lines;
}

/**
 * Inspects each stored image once: the check that accepts an answer and the placing of its image both need it. A
 * file that cannot be read is an unusable image, not an exception.
 */
export function createBlobInspector(blobDirectory: string): (blob: BlobReference) => Promise<ImageFileInspection> {
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

/** A response is kept only when its chosen image is really an image: magic bytes, dimensions, an intact end. */
async function validateImageResponse(options: {
  response: Record<string, unknown>;
  inspect: (blob: BlobReference) => Promise<ImageFileInspection>;
  choose: (response: Record<string, unknown>) => ImageChoice;
}): Promise<ResponseVerdict> {
  const choice = options.choose(options.response);
  if (!choice.ok) return choice;
  const inspection = await options.inspect(choice.image.blob);
  if (!inspection.ok) return { ok: false, reason: `image part ${choice.image.index} is not a usable image: ${inspection.reason}`, retryable: true };
  return { ok: true };
}

/**
 * Chooses each answer's image once per run: the executor's check, the store check of an earlier answer and the
 * placing of the image all ask it of the same response object.
 */
export function createImageChooser(): (response: Record<string, unknown>) => ImageChoice {
  const choices = new WeakMap<Record<string, unknown>, ImageChoice>();
  return (response) => {
    let choice = choices.get(response);
    if (!choice) {
      choice = chooseImage(response);
      choices.set(response, choice);
    }
    return choice;
  };
}
