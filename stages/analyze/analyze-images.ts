import type { GeminiExecutor } from '../../lib/gemini/gemini-executor.ts';
import { isMissingFileError, type RequestLine } from '../../lib/gemini/line-outcome.ts';
import type { UploadFunction } from '../../lib/gemini/upload-files.ts';
import { reportStageSummary, type Logger } from '../../lib/logger.ts';
import { formatCount } from '../../lib/format-count.ts';
import type { AnalysisCheckpoint, AnalyzedImage, AnalyzeFailure } from './analysis-result.ts';
import type { AnalyzeSettings } from '../../schemas/analyze-settings.ts';
import { buildAnalysisRequest, buildResponseSchema, renderAnalysisInstruction } from './build-analysis-request.ts';
import { inspectInputImage, type InputImage } from './inspect-input-image.ts';
import { compareText } from '../../lib/compare-text.ts';
import { describeUnmatchedFile } from './list-unmatched-files.ts';
import { scanImages } from './scan-images.ts';
import { parseAnalysisAnswer, validateAnalysisAnswer } from './validate-analysis-answer.ts';

export interface AnalyzeImagesOptions {
  inputDirectory: string;
  settings: AnalyzeSettings;
  /** The text of templates/analysis.hbs (or the user's own). */
  instructionTemplate: string;
  /** Folders chargen writes to (output folder, workspace): never read as input, should they lie inside it. */
  exclude?: readonly { role: string; path: string }[];
  /** Puts bytes on the Files API (the Gemini layer's uploadFiles, bound to a client and registry). */
  upload: UploadFunction;
  executor: GeminiExecutor;
  logger: Logger;
}

type GoodImage = Extract<InputImage, { ok: true }> & { path: string; relativePath: string };

export interface CollectedImages {
  /** One image per distinct content, with every name it goes by. */
  representatives: GoodImage[];
  bySha: Map<string, GoodImage[]>;
  failures: AnalyzeFailure[];
  warnings: string[];
}

/**
 * The part of stage one that spends nothing: find the images, check each by its bytes (a bad file is a named
 * failure with a fix), and group identical bytes under one representative. The dry run stops here.
 */
export async function collectInputImages(options: {
  inputDirectory: string;
  settings: AnalyzeSettings;
  logger: Logger;
  exclude?: readonly { role: string; path: string }[];
}): Promise<CollectedImages> {
  const { settings, logger } = options;
  const failures: AnalyzeFailure[] = [];
  const warnings: string[] = [];
  const fail = (failure: AnalyzeFailure) => {
    failures.push(failure);
    logger.warn(`${failure.sourcePath}: ${failure.reason}. ${failure.fix}`);
  };
  const scanned = await scanImages({ inputDirectory: options.inputDirectory, patterns: settings.patterns, ignore: settings.ignore, ...(options.exclude ? { exclude: options.exclude } : {}) });
  const good: GoodImage[] = [];
  for (const entry of scanned) {
    if (entry.kind === 'unmatched') {
      const report = describeUnmatchedFile(entry.relativePath);
      if (report.kind === 'failure') {
        fail({ sourcePath: entry.relativePath, step: 'scan', reason: report.reason, fix: report.fix });
      } else {
        warnings.push(`${entry.relativePath}: ${report.message}`);
        logger.warn(`${entry.relativePath}: ${report.message}`);
      }
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
    if (inspected.warning) {
      warnings.push(`${entry.relativePath}: ${inspected.warning}`);
      logger.warn(`${entry.relativePath}: ${inspected.warning}`);
    }
    good.push({ ...inspected, path: entry.path, relativePath: entry.relativePath });
  }
  const bySha = new Map<string, GoodImage[]>();
  for (const image of good) bySha.set(image.sha256, [...(bySha.get(image.sha256) ?? []), image]);
  const representatives = [...bySha.values()].map((names) => names[0] as GoodImage);
  return { representatives, bySha, failures, warnings };
}

/** The key an image's analysis request has (the file's URI is not part of it), known before anything is uploaded. */
export function computeAnalysisKey(options: { image: { sha256: string; mimeType: string }; instructionTemplate: string; settings: AnalyzeSettings }): string {
  return buildAnalysisRequest({
    image: { ...options.image, fileUri: '' },
    instruction: renderAnalysisInstruction(options.instructionTemplate),
    responseSchema: buildResponseSchema(options.settings.schemaField),
    settings: options.settings,
  }).key;
}

/**
 * Stage one: images in, validated character records out. Every bad file is a named failure with a fix and the
 * rest go on; identical bytes under several names are uploaded and analysed once.
 */
export async function analyzeImages(options: AnalyzeImagesOptions): Promise<Omit<AnalysisCheckpoint, 'kind' | 'version' | 'fingerprint'>> {
  const { settings, logger } = options;
  const collected = await collectInputImages({ inputDirectory: options.inputDirectory, settings, logger, ...(options.exclude ? { exclude: options.exclude } : {}) });
  const { representatives, bySha, warnings } = collected;
  const failures = [...collected.failures];
  const fail = (failure: AnalyzeFailure) => {
    failures.push(failure);
    logger.warn(`${failure.sourcePath}: ${failure.reason}. ${failure.fix}`);
  };

  const toCandidate = (image: GoodImage) => ({ path: image.path, sha256: image.sha256, mimeType: image.mimeType, sizeBytes: image.sizeBytes, displayName: image.relativePath });
  const uploads = await options.upload(representatives.map(toCandidate));
  const instruction = renderAnalysisInstruction(options.instructionTemplate);
  const responseSchema = buildResponseSchema(settings.schemaField);
  const keyBySha = new Map<string, string>();
  const lines: RequestLine[] = [];
  for (const image of representatives) {
    const uploaded = uploads.get(image.sha256);
    if (uploaded?.status !== 'uploaded') {
      const reason = uploaded?.status === 'failed' ? uploaded.error.message : 'not uploaded';
      for (const name of bySha.get(image.sha256) ?? []) {
        fail({ sourcePath: name.relativePath, step: 'upload', reason: `upload failed: ${reason}`, fix: 'Run again; uploads that succeeded are kept.', retryable: true });
      }
      continue;
    }
    const line = buildAnalysisRequest({ image: { sha256: image.sha256, mimeType: image.mimeType, fileUri: uploaded.file.uri }, instruction, responseSchema, settings });
    keyBySha.set(image.sha256, line.key);
    lines.push(line);
  }

  logger.progress?.({ stage: 'analyze', done: 0, total: representatives.length });
  const execute = (batch: RequestLine[]) => options.executor.execute({ stage: 'analyze', model: settings.model, lines: batch, validate: validateAnalysisAnswer });
  const report = await execute(lines);
  // An upload that expired or was deleted since it was registered: upload it again and ask once more.
  const gone = representatives.filter((image) => {
    const outcome = report.outcomes.get(keyBySha.get(image.sha256) ?? '');
    return outcome?.status === 'failed' && isMissingFileError(outcome.error);
  });
  if (gone.length > 0) {
    logger.info(`analyze: ${gone.length} uploaded images are gone from the Files API (expired or deleted); uploading them again`);
    const again = await options.upload(gone.map(toCandidate), { refresh: new Set(gone.map((image) => image.sha256)) });
    const retryLines = gone.flatMap((image) => {
      const uploaded = again.get(image.sha256);
      if (uploaded?.status !== 'uploaded') return [];
      return [buildAnalysisRequest({ image: { sha256: image.sha256, mimeType: image.mimeType, fileUri: uploaded.file.uri }, instruction, responseSchema, settings })];
    });
    const second = await execute(retryLines);
    for (const [key, outcome] of second.outcomes) report.outcomes.set(key, outcome);
  }
  logger.progress?.({ stage: 'analyze', done: representatives.length, total: representatives.length });
  reportStageSummary(logger, {
    stage: 'analyze',
    summary: `analyze: ${formatCount(lines.length, 'distinct image')}, ${report.cachedKeys} from earlier runs, ${formatCount(report.sentLines, 'request')} sent`,
  });

  const records: AnalyzedImage[] = [];
  for (const [sha256, key] of keyBySha) {
    const names = bySha.get(sha256) ?? [];
    const outcome = report.outcomes.get(key);
    const parsed = outcome?.status === 'succeeded' ? parseAnalysisAnswer(outcome.response) : undefined;
    if (outcome?.status === 'succeeded' && parsed?.ok) {
      const usage = outcome.response['usageMetadata'];
      const first = names[0] as GoodImage;
      for (const name of names) {
        records.push({
          sourcePath: name.relativePath,
          sha256,
          mimeType: name.mimeType,
          width: name.width,
          height: name.height,
          model: settings.model,
          key,
          record: parsed.record,
          ...(typeof usage === 'object' && usage !== null ? { usage: usage as Record<string, unknown> } : {}),
          ...(name !== first ? { sameContentAs: first.relativePath } : {}),
        });
      }
    } else {
      const reason = outcome?.status === 'failed' ? outcome.reason : parsed && !parsed.ok ? parsed.reason : 'no answer';
      const fix = outcome?.status === 'failed' && outcome.fix
        ? outcome.fix
        : outcome?.status === 'failed' && !outcome.retryable
        ? 'The model refused this image; replace it or change the analysis settings.'
        : 'Run again to retry it (answers already received are kept), or try analyze.model "gemini-3.1-pro-preview".';
      const retryable = outcome?.status === 'failed' ? outcome.retryable : true;
      for (const name of names) fail({ sourcePath: name.relativePath, step: 'analyze', reason, fix, retryable });
    }
  }
  const byPath = (left: { sourcePath: string }, right: { sourcePath: string }) => compareText(left.sourcePath, right.sourcePath);
  return { records: records.sort(byPath), failures: failures.sort(byPath), warnings };
}
