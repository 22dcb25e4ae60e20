import type { GeminiExecutor } from '../../lib/gemini/gemini-executor.ts';
import { executeWithReupload } from '../../lib/gemini/execute-with-reupload.ts';
import type { ExecuteReport } from '../../lib/gemini/gemini-executor.ts';
import type { LineOutcome, RequestLine, ResponseValidator, ResponseVerdict } from '../../lib/gemini/line-outcome.ts';
import type { UploadFunction, UploadOutcome } from '../../lib/gemini/upload-files.ts';
import { reportStageSummary, type Logger } from '../../lib/logger.ts';
import { formatCount } from '../../lib/format-count.ts';
import type { AnalysisCheckpoint, AnalyzedImage, AnalyzeFailure, CharacterReference } from './analysis-result.ts';
import type { AnalyzeSettings } from '../../schemas/analyze-settings.ts';
import { buildAnalysisRequest, buildResponseSchema, renderAnalysisInstruction } from './core/build-analysis-request.ts';
import { compareText } from '../../lib/compare-text.ts';
import type { ScannedEntry } from './scan-images.ts';
import { collectInputImages, groupBySentReferences, type CollectedImages, type GoodImage, type InputCharacter } from './collect-input-images.ts';
import { runChunksWithinBudget, takeChunkResults, type StageChunking } from '../../lib/gemini/run-chunks-within-budget.ts';
import { parseAnalysisAnswer, toAnalysisVerdict, type ParsedAnalysis } from './core/validate-analysis-answer.ts';

export { collectInputImages, type CollectedImages, type InputCharacter };

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
  /** Characters cut into chunks whose images fit the Files API budget (the stage run on its own); one chunk when absent. */
  chunking?: StageChunking;
}

/** The key a character's analysis request has (the files' URIs are not part of it), known before anything is uploaded. */
export function computeAnalysisKey(options: { images: readonly { sha256: string; mimeType: string }[]; instructionTemplate: string; settings: AnalyzeSettings }): string {
  return buildAnalysisRequest({
    images: options.images.map((image) => ({ ...image, fileUri: '' })),
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

/** Characters with the same references (in the same order) share one request and one answer. */
interface AnalysisUnit {
  /** The first names the request; the others have sameContentAs. */
  characters: InputCharacter[];
  images: GoodImage[];
  key: string;
}

function planAnalysisUnits(options: { characters: readonly InputCharacter[]; keyOf: (images: readonly GoodImage[]) => string }): AnalysisUnit[] {
  return groupBySentReferences(options.characters).map((characters) => {
    const images = (characters[0] as InputCharacter).sent;
    return { characters, images, key: options.keyOf(images) };
  });
}

/**
 * Uploads the characters' references, asks for one analysis per character (per distinct set of references), and asks
 * again (uploading afresh) for the ones whose uploads are gone from the Files API. A failed upload is a failure of
 * every character whose request needs it.
 */
async function requestAnalyses(options: AnalyzeCollectedOptions & { validate: ResponseValidator; fail: (failure: AnalyzeFailure) => void }) {
  const { settings, logger, collected } = options;
  const toCandidate = (image: GoodImage) => ({ path: image.path, sha256: image.sha256, mimeType: image.mimeType, sizeBytes: image.sizeBytes, displayName: image.relativePath });
  const instruction = renderAnalysisInstruction(options.instructionTemplate);
  const responseSchema = buildResponseSchema(settings.schemaField);
  const build = (images: readonly GoodImage[], uriOf: (image: GoodImage) => string) =>
    buildAnalysisRequest({ images: images.map((image) => ({ sha256: image.sha256, mimeType: image.mimeType, fileUri: uriOf(image) })), instruction, responseSchema, settings });
  const units = planAnalysisUnits({ characters: collected.characters, keyOf: (images) => build(images, () => '').key });
  const sentKeys = new Set<string>();
  let first: ExecuteReport | undefined;
  const send = async (batch: readonly AnalysisUnit[], refresh?: ReadonlySet<string>) => {
    // A character answered before (a chunk done before a kill) is not uploaded again: its key leaves the URIs out,
    // and the executor answers it from the workspace without sending the line.
    const answered = refresh ? new Set<string>() : await findAnsweredKeys({ executor: options.executor, keys: batch.map((unit) => unit.key) });
    const needed = new Map(batch.filter((unit) => !answered.has(unit.key)).flatMap((unit) => unit.images.map((image) => [image.sha256, toCandidate(image)] as const)));
    const uploads = needed.size === 0 ? new Map<string, UploadOutcome>() : await options.upload([...needed.values()], refresh ? { refresh } : undefined);
    const lines: RequestLine[] = [];
    for (const unit of batch) {
      const missing = answered.has(unit.key) ? undefined : unit.images.find((image) => uploads.get(image.sha256)?.status !== 'uploaded');
      if (missing) {
        // A second upload that fails leaves the character with the answer it had: its file is gone.
        if (refresh) continue;
        const outcome = uploads.get(missing.sha256);
        const reason = outcome?.status === 'failed' ? outcome.error.message : 'not uploaded';
        for (const character of unit.characters) {
          options.fail({ sourcePath: character.name, step: 'upload', reason: `upload of ${missing.relativePath} failed: ${reason}`, fix: 'Run again; uploads that succeeded are kept.', retryable: true });
        }
        continue;
      }
      const uriOf = (image: GoodImage) => {
        const outcome = uploads.get(image.sha256);
        return outcome?.status === 'uploaded' && !answered.has(unit.key) ? outcome.file.uri : '';
      };
      lines.push(build(unit.images, uriOf));
      sentKeys.add(unit.key);
    }
    const report = await options.executor.execute({ stage: 'analyze', model: settings.model, lines, validate: options.validate });
    first ??= report;
    return report.outcomes;
  };
  const outcomes = await executeWithReupload({
    items: units,
    send,
    keyOf: (unit) => (sentKeys.has(unit.key) ? unit.key : undefined),
    uploadOf: (unit) => unit.images.map((image) => image.sha256),
    onReupload: (count) => logger.info(`analyze: ${count} characters' uploaded references are gone from the Files API (expired or deleted); uploading them again`),
  });
  const images = new Set(units.flatMap((unit) => unit.images.map((image) => image.sha256))).size;
  reportStageSummary(logger, {
    stage: 'analyze',
    summary: `analyze: ${formatCount(images, 'distinct image')} of ${formatCount(collected.characters.length, 'character')}, ${first?.cachedKeys ?? 0} from earlier runs, ${formatCount(first?.sentLines ?? 0, 'request')} sent${options.chunkLabel ? ` (${options.chunkLabel})` : ''}`,
  });
  return { outcomes, units: units.filter((unit) => sentKeys.has(unit.key)) };
}

/** The keys among these that the workspace holds an answer for. */
async function findAnsweredKeys(options: { executor: GeminiExecutor; keys: readonly string[] }): Promise<Set<string>> {
  if (!options.executor.findAnswered || options.keys.length === 0) return new Set();
  return new Set(await options.executor.findAnswered({ stage: 'analyze', keys: options.keys.values() }));
}

/** What a failed (or unparsable) answer tells the user to do. */
function describeAnalysisFix(outcome: LineOutcome | undefined): string {
  if (outcome?.status === 'failed' && outcome.fix) return outcome.fix;
  if (outcome?.status === 'failed' && !outcome.retryable) return 'The model refused this character\'s references; replace them or change the analysis settings.';
  return 'Run again to retry it (answers already received are kept), or try analyze.model "gemini-3.1-pro-preview".';
}

function toReferences(images: readonly GoodImage[]): CharacterReference[] {
  return images.map((image) => ({ path: image.relativePath, sha256: image.sha256, mimeType: image.mimeType, width: image.width, height: image.height }));
}

/** One record per character with a usable answer (naming the references it drew on); one failure per other character. */
function toAnalysisRecords(options: {
  outcomes: ReadonlyMap<string, LineOutcome>;
  units: readonly AnalysisUnit[];
  model: string;
  parse: (response: Record<string, unknown>) => ParsedAnalysis;
  fail: (failure: AnalyzeFailure) => void;
}): AnalyzedImage[] {
  const records: AnalyzedImage[] = [];
  for (const unit of options.units) {
    const outcome = options.outcomes.get(unit.key);
    const parsed = outcome?.status === 'succeeded' ? options.parse(outcome.response) : undefined;
    if (outcome?.status === 'succeeded' && parsed?.ok) {
      const usage = outcome.response['usageMetadata'];
      const [first] = unit.characters;
      for (const character of unit.characters) {
        const [lead] = character.sent as [GoodImage];
        records.push({
          sourcePath: character.name,
          sha256: lead.sha256,
          mimeType: lead.mimeType,
          width: lead.width,
          height: lead.height,
          model: options.model,
          key: unit.key,
          record: parsed.record,
          ...(typeof usage === 'object' && usage !== null ? { usage: usage as Record<string, unknown> } : {}),
          ...(first && character !== first ? { sameContentAs: first.name } : {}),
          references: toReferences(character.sent),
          ...(character.leftOut.length > 0 ? { otherReferences: toReferences(character.leftOut) } : {}),
        });
      }
    } else {
      const reason = outcome?.status === 'failed' ? outcome.reason : parsed && !parsed.ok ? parsed.reason : 'no answer';
      const retryable = outcome?.status === 'failed' ? outcome.retryable : true;
      for (const character of unit.characters) options.fail({ sourcePath: character.name, step: 'analyze', reason, fix: describeAnalysisFix(outcome), retryable });
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
 * Asks for the analyses of characters already collected (all of them, or one chunk of a run): one record per
 * character with a usable answer, one failure per other character. The collection's own failures are not repeated.
 */
export async function analyzeCollectedImages(options: AnalyzeCollectedOptions): Promise<{ records: AnalyzedImage[]; failures: AnalyzeFailure[] }> {
  const failures: AnalyzeFailure[] = [];
  const fail = (failure: AnalyzeFailure) => {
    failures.push(failure);
    options.logger.warn(`${failure.sourcePath}: ${failure.reason}. ${failure.fix}`);
  };
  const judge = createAnalysisJudge();
  const { outcomes, units } = await requestAnalyses({ ...options, validate: judge.validate, fail });
  const records = toAnalysisRecords({ outcomes, units, model: options.settings.model, parse: judge.parse, fail });
  return { records, failures };
}

/**
 * Stage one: images in, validated character records out, one per character (a folder of references, or an image
 * directly in the input folder). Every bad file is a named failure with a fix and the rest go on; identical bytes
 * are uploaded once, and characters with the same references are analysed once.
 */
export async function analyzeImages(options: AnalyzeImagesOptions): Promise<Omit<AnalysisCheckpoint, 'kind' | 'version' | 'fingerprint'>> {
  const { settings, logger } = options;
  const collected = await collectInputImages({ inputDirectory: options.inputDirectory, settings, logger, ...(options.exclude ? { exclude: options.exclude } : {}), ...(options.scanned ? { scanned: options.scanned } : {}) });
  const total = collected.characters.length;
  logger.progress?.({ stage: 'analyze', done: 0, total });
  const analysed = options.chunking ? await analyzeInChunks({ ...options, collected, chunking: options.chunking }) : await analyzeCollectedImages({ ...options, collected });
  logger.progress?.({ stage: 'analyze', done: total, total });
  const byPath = (left: { sourcePath: string }, right: { sourcePath: string }) => compareText(left.sourcePath, right.sourcePath);
  return { records: analysed.records.sort(byPath), failures: [...collected.failures, ...analysed.failures].sort(byPath), warnings: collected.warnings };
}

/**
 * The characters in chunks whose images fit half the images' part of the storage budget: each chunk's images are
 * uploaded, analysed, and deleted before the budget lets more chunks start.
 */
async function analyzeInChunks(options: AnalyzeCollectedOptions & { chunking: StageChunking }): Promise<{ records: AnalyzedImage[]; failures: AnalyzeFailure[] }> {
  const { chunking } = options;
  // The references the group's one analysis carries (the same for each of its characters): those it uploads.
  const sentOf = (group: readonly InputCharacter[]) => (group[0] as InputCharacter).sent;
  const ends = await runChunksWithinBudget({
    // Characters analysed by one request stay in one chunk (never asked twice at once).
    items: groupBySentReferences(options.collected.characters),
    maxItemsPerChunk: chunking.maxCharacters,
    concurrency: chunking.concurrency,
    storage: chunking.storage,
    sizeOf: (group) => sentOf(group).reduce((sum, image) => sum + image.sizeBytes, 0),
    uploadsOf: (group) => sentOf(group).map((image) => image.sha256),
    releaseUploads: chunking.releaseUploads,
    work: (groups, { label }) => analyzeCollectedImages({ ...options, collected: { characters: groups.flat(), failures: [], warnings: [] }, ...(label ? { chunkLabel: label } : {}) }),
  });
  const results = takeChunkResults(ends, { stage: 'analyze' });
  return { records: results.flatMap((result) => result.records), failures: results.flatMap((result) => result.failures) };
}
