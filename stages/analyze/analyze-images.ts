import type { GeminiExecutor } from '../../lib/gemini/gemini-executor.ts';
import { executeWithReupload } from '../../lib/gemini/execute-with-reupload.ts';
import type { ExecuteReport } from '../../lib/gemini/gemini-executor.ts';
import type { LineOutcome, RequestLine, ResponseValidator, ResponseVerdict } from '../../lib/gemini/line-outcome.ts';
import type { UploadFunction, UploadOutcome } from '../../lib/gemini/upload-files.ts';
import { reportStageSummary, type Logger } from '../../lib/logger.ts';
import { formatCount } from '../../lib/format-count.ts';
import type { AnalysisCheckpoint, AnalyzedImage, AnalyzeFailure } from './analysis-result.ts';
import type { AnalyzeSettings } from '../../schemas/analyze-settings.ts';
import { buildAnalysisRequest, buildResponseSchema, renderAnalysisInstruction } from './core/build-analysis-request.ts';
import { inspectInputImage, type InputImage } from './inspect-input-image.ts';
import { compareText } from '../../lib/compare-text.ts';
import { describeUnmatchedFile } from './list-unmatched-files.ts';
import { scanImages, type ScannedEntry } from './scan-images.ts';
import { parseAnalysisAnswer, toAnalysisVerdict, type ParsedAnalysis } from './core/validate-analysis-answer.ts';

export interface AnalyzeImagesOptions {
  inputDirectory: string;
  settings: AnalyzeSettings;
  /** The text of templates/analysis.hbs (or the user's own). */
  instructionTemplate: string;
  /** Folders chargen writes to (output folder, workspace): never read as input, should they lie inside it. */
  exclude?: readonly { role: string; path: string }[];
  /** The input folder's scan, when the run has it already (else the folder is scanned here). */
  scanned?: readonly ScannedEntry[];
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
  /** The input folder's scan, when the run has it already (else the folder is scanned here). */
  scanned?: readonly ScannedEntry[];
}): Promise<CollectedImages> {
  const { settings, logger } = options;
  const failures: AnalyzeFailure[] = [];
  const warnings: string[] = [];
  const fail = (failure: AnalyzeFailure) => {
    failures.push(failure);
    logger.warn(`${failure.sourcePath}: ${failure.reason}. ${failure.fix}`);
  };
  const scanned = options.scanned ?? await scanImages({ inputDirectory: options.inputDirectory, patterns: settings.patterns, ignore: settings.ignore, ...(options.exclude ? { exclude: options.exclude } : {}) });
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

/** Judges analysis answers, parsing each once: the executor's check keeps what it parsed for the records. */
function createAnalysisJudge(): { validate: (response: Record<string, unknown>) => ResponseVerdict; parse: (response: Record<string, unknown>) => ParsedAnalysis } {
  const parsed = new WeakMap<Record<string, unknown>, ParsedAnalysis>();
  const parse = (response: Record<string, unknown>): ParsedAnalysis => {
    const known = parsed.get(response);
    if (known) return known;
    const fresh = parseAnalysisAnswer(response);
    parsed.set(response, fresh);
    return fresh;
  };
  return { parse, validate: (response) => toAnalysisVerdict(parse(response)) };
}

/**
 * Uploads the distinct images, asks for their analyses, and asks again (uploading afresh) for the ones whose upload
 * is gone from the Files API. A failed upload is a failure of every name the image goes by.
 */
async function requestAnalyses(options: AnalyzeCollectedOptions & { validate: ResponseValidator; fail: (failure: AnalyzeFailure) => void }) {
  const { settings, logger, collected } = options;
  const toCandidate = (image: GoodImage) => ({ path: image.path, sha256: image.sha256, mimeType: image.mimeType, sizeBytes: image.sizeBytes, displayName: image.relativePath });
  const instruction = renderAnalysisInstruction(options.instructionTemplate);
  const responseSchema = buildResponseSchema(settings.schemaField);
  const keyBySha = new Map<string, string>();
  let first: ExecuteReport | undefined;
  let lineCount = 0;
  const placeholderUri = '';
  const send = async (images: readonly GoodImage[], refresh?: ReadonlySet<string>) => {
    // An image answered before (a chunk done before a kill) is not uploaded again: its key leaves the URI out, and
    // the executor answers it from the workspace without sending the line.
    const answered = refresh ? new Set<string>() : await findAnsweredImages({ executor: options.executor, images, keyOf: (image) => buildAnalysisRequest({ image: { ...image, fileUri: placeholderUri }, instruction, responseSchema, settings }).key });
    const candidates = images.filter((image) => !answered.has(image.sha256)).map(toCandidate);
    const uploads = candidates.length === 0 ? new Map<string, UploadOutcome>() : refresh ? await options.upload(candidates, { refresh }) : await options.upload(candidates);
    const lines: RequestLine[] = [];
    for (const image of images) {
      const uploaded = answered.has(image.sha256) ? { status: 'uploaded' as const, file: { uri: placeholderUri } } : uploads.get(image.sha256);
      if (uploaded?.status !== 'uploaded') {
        // A second upload that fails leaves the image with the answer it had: its file is gone.
        if (refresh) continue;
        const reason = uploaded?.status === 'failed' ? uploaded.error.message : 'not uploaded';
        for (const name of collected.bySha.get(image.sha256) ?? []) {
          options.fail({ sourcePath: name.relativePath, step: 'upload', reason: `upload failed: ${reason}`, fix: 'Run again; uploads that succeeded are kept.', retryable: true });
        }
        continue;
      }
      const line = buildAnalysisRequest({ image: { sha256: image.sha256, mimeType: image.mimeType, fileUri: uploaded.file.uri }, instruction, responseSchema, settings });
      keyBySha.set(image.sha256, line.key);
      lines.push(line);
    }
    if (!refresh) lineCount = lines.length;
    const report = await options.executor.execute({ stage: 'analyze', model: settings.model, lines, validate: options.validate });
    first ??= report;
    return report.outcomes;
  };
  const outcomes = await executeWithReupload({
    items: collected.representatives,
    send,
    keyOf: (image) => keyBySha.get(image.sha256),
    uploadOf: (image) => image.sha256,
    onReupload: (count) => logger.info(`analyze: ${count} uploaded images are gone from the Files API (expired or deleted); uploading them again`),
  });
  reportStageSummary(logger, {
    stage: 'analyze',
    summary: `analyze: ${formatCount(lineCount, 'distinct image')}, ${first?.cachedKeys ?? 0} from earlier runs, ${formatCount(first?.sentLines ?? 0, 'request')} sent${options.chunkLabel ? ` (${options.chunkLabel})` : ''}`,
  });
  return { outcomes, keyBySha };
}

/** The sha256s of the images whose analysis (by its key) the workspace holds an answer for. */
async function findAnsweredImages(options: { executor: GeminiExecutor; images: readonly GoodImage[]; keyOf: (image: GoodImage) => string }): Promise<Set<string>> {
  if (!options.executor.findAnswered || options.images.length === 0) return new Set();
  const shaByKey = new Map(options.images.map((image) => [options.keyOf(image), image.sha256]));
  const keys = await options.executor.findAnswered({ stage: 'analyze', keys: shaByKey.keys() });
  return new Set([...keys].flatMap((key) => shaByKey.get(key) ?? []));
}

/** What a failed (or unparsable) answer tells the user to do. */
function describeAnalysisFix(outcome: LineOutcome | undefined): string {
  if (outcome?.status === 'failed' && outcome.fix) return outcome.fix;
  if (outcome?.status === 'failed' && !outcome.retryable) return 'The model refused this image; replace it or change the analysis settings.';
  return 'Run again to retry it (answers already received are kept), or try analyze.model "gemini-3.1-pro-preview".';
}

/** One record per name an analysed image goes by; one failure per name of an image without a usable answer. */
function toAnalysisRecords(options: {
  outcomes: ReadonlyMap<string, LineOutcome>;
  keyBySha: ReadonlyMap<string, string>;
  bySha: ReadonlyMap<string, GoodImage[]>;
  model: string;
  parse: (response: Record<string, unknown>) => ParsedAnalysis;
  fail: (failure: AnalyzeFailure) => void;
}): AnalyzedImage[] {
  const records: AnalyzedImage[] = [];
  for (const [sha256, key] of options.keyBySha) {
    const names = options.bySha.get(sha256) ?? [];
    const outcome = options.outcomes.get(key);
    const parsed = outcome?.status === 'succeeded' ? options.parse(outcome.response) : undefined;
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
          model: options.model,
          key,
          record: parsed.record,
          ...(typeof usage === 'object' && usage !== null ? { usage: usage as Record<string, unknown> } : {}),
          ...(name !== first ? { sameContentAs: first.relativePath } : {}),
        });
      }
    } else {
      const reason = outcome?.status === 'failed' ? outcome.reason : parsed && !parsed.ok ? parsed.reason : 'no answer';
      const retryable = outcome?.status === 'failed' ? outcome.retryable : true;
      for (const name of names) options.fail({ sourcePath: name.relativePath, step: 'analyze', reason, fix: describeAnalysisFix(outcome), retryable });
    }
  }
  return records;
}

/** What analyzing some collected images needs besides them: the settings, the instruction, uploads and the executor. */
export type AnalyzeCollectedOptions = Omit<AnalyzeImagesOptions, 'inputDirectory' | 'exclude' | 'scanned'> & {
  collected: CollectedImages;
  /** Said after the stage's summary line, when the images are one chunk of several (`chunk 2 of 8`). */
  chunkLabel?: string;
};

/**
 * Asks for the analyses of images already collected (all of them, or one chunk of a run): one record per name of an
 * image with a usable answer, one failure per name of the rest. The collection's own failures are not repeated.
 */
export async function analyzeCollectedImages(options: AnalyzeCollectedOptions): Promise<{ records: AnalyzedImage[]; failures: AnalyzeFailure[] }> {
  const failures: AnalyzeFailure[] = [];
  const fail = (failure: AnalyzeFailure) => {
    failures.push(failure);
    options.logger.warn(`${failure.sourcePath}: ${failure.reason}. ${failure.fix}`);
  };
  const judge = createAnalysisJudge();
  const { outcomes, keyBySha } = await requestAnalyses({ ...options, validate: judge.validate, fail });
  const records = toAnalysisRecords({ outcomes, keyBySha, bySha: options.collected.bySha, model: options.settings.model, parse: judge.parse, fail });
  return { records, failures };
}

/**
 * Stage one: images in, validated character records out. Every bad file is a named failure with a fix and the
 * rest go on; identical bytes under several names are uploaded and analysed once.
 */
export async function analyzeImages(options: AnalyzeImagesOptions): Promise<Omit<AnalysisCheckpoint, 'kind' | 'version' | 'fingerprint'>> {
  const { settings, logger } = options;
  const collected = await collectInputImages({ inputDirectory: options.inputDirectory, settings, logger, ...(options.exclude ? { exclude: options.exclude } : {}), ...(options.scanned ? { scanned: options.scanned } : {}) });
  const total = collected.representatives.length;
  logger.progress?.({ stage: 'analyze', done: 0, total });
  const analysed = await analyzeCollectedImages({ ...options, collected });
  logger.progress?.({ stage: 'analyze', done: total, total });
  const byPath = (left: { sourcePath: string }, right: { sourcePath: string }) => compareText(left.sourcePath, right.sourcePath);
  return { records: analysed.records.sort(byPath), failures: [...collected.failures, ...analysed.failures].sort(byPath), warnings: collected.warnings };
}
