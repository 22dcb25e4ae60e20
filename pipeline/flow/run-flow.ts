import { compareText } from '../../lib/compare-text.ts';
import { JobsPendingError } from '../../lib/errors.ts';
import type { Logger, ProgressEvent } from '../../lib/logger.ts';
import { mapWithConcurrency } from '../../lib/map-with-concurrency.ts';
import { fingerprintAnalyzeStep, listAnalyzeInput, listWrittenFolders, readAnalysisTemplate, recordAnalysis } from '../../stages/analyze/analyze-step.ts';
import { collectInputImages, type CollectedImages } from '../../stages/analyze/analyze-images.ts';
import { compileStep, loadPromptTemplates } from '../../stages/compile/compile-step.ts';
import { readAnalysisCheckpoint } from '../../stages/analyze/analysis-checkpoint.ts';
import { readSynthesizeCheckpoint } from '../../stages/synthesize/synthesize-checkpoint.ts';
import type { StageContext } from '../../stages/stage-context.ts';
import type { DeadLetter, StageName, StageSummary } from '../../stages/stage-step.ts';
import { prepareOutputFolder, type SynthesizeResult } from '../../stages/synthesize/synthesize-images.ts';
import { fingerprintSynthesizeStep, readPrompts, recordSynthesis } from '../../stages/synthesize/synthesize-step.ts';
import { runFlowChunk, type FlowChunkResult } from './flow-chunk.ts';
import { splitIntoChunks } from '../../lib/split-into-chunks.ts';
import { formatChunkLabel } from './format-chunk-label.ts';

/** How a run that flowed ended: every chunk through (checkpoints written), or stopped in a stage (nothing written). */
export type FlowOutcome =
  | { status: 'done'; stages: Record<StageName, StageSummary>; deadLetter: DeadLetter[] }
  | { status: 'stopped'; stage: StageName; error: unknown; pendingJobs: number };

type Image = CollectedImages['representatives'][number];
type ChunkEnd = { status: 'done'; result: FlowChunkResult } | { status: 'stopped'; stage: StageName; error: unknown };

/** The images of one chunk as a collection of their own: its representatives and every name each goes by. */
function toChunkCollection(collected: CollectedImages, representatives: Image[]): CollectedImages {
  return { representatives, bySha: new Map(representatives.map((image) => [image.sha256, collected.bySha.get(image.sha256) ?? [image]])), failures: [], warnings: [] };
}

/** The chunks' loggers: counts of the whole run are the runner's to say; answers, jobs and lines go through. */
function createChunkLogger(logger: Logger): Logger {
  const progress = logger.progress?.bind(logger);
  const chunkLogger: Logger = { print: (line) => logger.print(line), info: (line) => logger.info(line), warn: (line) => logger.warn(line), error: (line) => logger.error(line) };
  if (progress) chunkLogger.progress = (event: ProgressEvent) => (event.done === undefined && event.total === undefined ? progress(event) : undefined);
  return chunkLogger;
}

/**
 * `chargen run` over stages that all need to run: the images cut into chunks (gemini.chunkMaxLines each) that go
 * through analyze → compile → synthesize each on its own, so a chunk's images are made while others are still
 * analysed and one stuck job holds only its own chunk. Jobs are bounded by the backend's one limiter
 * (maxJobsInFlight), chunks under way by the same number. The stages' checkpoints are written once every chunk is
 * through, as the stages write them; a run stopped before (interrupted, jobs left running) writes none, and the next
 * run finds every answer in the workspace's caches.
 */
export async function runFlow(context: StageContext, options: { forced: ReadonlySet<StageName> }): Promise<FlowOutcome> {
  const { config, logger } = context;
  // A damaged checkpoint of a stage not forced stops the run naming its fix, as the stage's step does (a forced one is
  // not read, and simply replaced).
  if (!options.forced.has('analyze')) await readAnalysisCheckpoint(context.workspace.directory);
  if (!options.forced.has('synthesize')) await readSynthesizeCheckpoint(context.workspace.directory);
  const fingerprint = await fingerprintAnalyzeStep(context);
  const listing = await listAnalyzeInput(context);
  const instructionTemplate = await readAnalysisTemplate();
  // A template error stops the run here, before anything is uploaded or sent.
  const templates = await loadPromptTemplates(context);
  const backend = await context.connect();
  const collected = await collectInputImages({ inputDirectory: context.inputDirectory, settings: config.analyze, logger, exclude: listWrittenFolders(context), ...(listing ? { scanned: listing.entries } : {}) });
  const names = [...collected.bySha.values()].flat();
  const entries = names.flatMap((image) => Array.from({ length: config.compile.variants }, (_unused, index) => ({ sourcePath: image.relativePath, variant: index + 1 })));
  const folder = await prepareOutputFolder({ entries, folders: { input: context.inputDirectory, output: context.outputDirectory, workspace: context.workspace.directory }, logger });
  // Half the budget a chunk: one chunk's images go up while another's are still held by its jobs.
  const chunks = splitIntoChunks({ items: collected.representatives, maxItems: backend.settings.chunkMaxLines, maxBytes: backend.storage.budgetBytes / 2, sizeOf: (image) => image.sizeBytes });
  logger.progress?.({ stage: 'analyze', done: 0, total: collected.representatives.length });
  logger.progress?.({ stage: 'synthesize', done: 0, total: entries.length });
  const chunkLogger = createChunkLogger(logger);
  let stopped = false;
  const ends = await mapWithConcurrency({
    items: chunks,
    concurrency: backend.settings.maxJobsInFlight,
    work: async (images, index): Promise<ChunkEnd> => {
      let stage: StageName = 'analyze';
      if (stopped) return { status: 'stopped', stage, error: undefined };
      // The chunk's images are uploaded only once their bytes fit the storage budget, and deleted once its jobs are
      // done; a chunk that stops keeps them (a pending job may read them), and the run's end deletes what is left.
      const giveBack = await backend.storage.reserve(images.reduce((sum, image) => sum + image.sizeBytes, 0));
      try {
        const chunkLabel = formatChunkLabel({ index, count: chunks.length });
        const result = await runFlowChunk({ context, backend, collected: toChunkCollection(collected, images), instructionTemplate, templates, folder, logger: chunkLogger, onStage: (name) => (stage = name), ...(chunkLabel ? { chunkLabel } : {}) });
        await backend.releaseUploads(images.map((image) => image.sha256));
        return { status: 'done', result };
      } catch (error) {
        // Jobs left running hold their own chunk only; anything else stops the run from starting more chunks.
        if (!(error instanceof JobsPendingError)) stopped = true;
        return { status: 'stopped', stage, error };
      } finally {
        giveBack();
      }
    },
  });
  const stop = findStop(ends);
  if (stop) return stop;
  const results = ends.flatMap((end) => (end.status === 'done' ? [end.result] : []));
  return recordFlow(context, { fingerprint, collected, results, forced: options.forced });
}

/** The first chunk that stopped for good (an error, an interrupt) wins over chunks whose jobs are left running. */
function findStop(ends: readonly ChunkEnd[]): Extract<FlowOutcome, { status: 'stopped' }> | undefined {
  const stops = ends.flatMap((end) => (end.status === 'stopped' && end.error !== undefined ? [end] : []));
  const pendingJobs = stops.reduce((sum, end) => sum + (end.error instanceof JobsPendingError ? end.error.pendingJobs : 0), 0);
  const first = stops.find((end) => !(end.error instanceof JobsPendingError)) ?? stops[0];
  if (!first) return undefined;
  const earliest = (['analyze', 'compile', 'synthesize'] as const).find((name) => stops.some((end) => end.stage === name)) ?? first.stage;
  return { status: 'stopped', stage: earliest, error: first.error, pendingJobs };
}

/** Every chunk through: the three checkpoints written as the stages write them, and what each stage did. */
async function recordFlow(context: StageContext, options: { fingerprint: string; collected: CollectedImages; results: FlowChunkResult[]; forced: ReadonlySet<StageName> }): Promise<FlowOutcome> {
  const byPath = (left: { sourcePath: string }, right: { sourcePath: string }) => compareText(left.sourcePath, right.sourcePath);
  const byOutput = (left: { sourcePath: string; variant: number }, right: { sourcePath: string; variant: number }) => byPath(left, right) || left.variant - right.variant;
  const { results, collected } = options;
  const analysis = await recordAnalysis(context, {
    fingerprint: options.fingerprint,
    result: {
      records: results.flatMap((result) => result.records).sort(byPath),
      failures: [...collected.failures, ...results.flatMap((result) => result.failures)].sort(byPath),
      warnings: collected.warnings,
    },
  });
  const compile = await compileStep.run(context, { force: options.forced.has('compile') });
  const synthesis: SynthesizeResult = {
    outputs: results.flatMap((result) => result.synthesis.outputs).sort(byOutput),
    failures: results.flatMap((result) => result.synthesis.failures).sort(byOutput),
    warnings: results.flatMap((result) => result.synthesis.warnings),
    report: {
      cachedKeys: sumOf(results, (result) => result.synthesis.report.cachedKeys),
      sentLines: sumOf(results, (result) => result.synthesis.report.sentLines),
      jobsCreated: sumOf(results, (result) => result.synthesis.report.jobsCreated),
      jobsAdopted: sumOf(results, (result) => result.synthesis.report.jobsAdopted),
      requests: sumOf(results, (result) => result.synthesis.report.requests),
    },
  };
  const total = synthesis.outputs.length + synthesis.failures.length;
  context.logger.progress?.({ stage: 'analyze', done: collected.representatives.length, total: collected.representatives.length });
  context.logger.progress?.({ stage: 'synthesize', done: total, total });
  const synthesize = await recordSynthesis(context, { fingerprint: fingerprintSynthesizeStep(context, await readPrompts(context)), result: synthesis });
  return {
    status: 'done',
    stages: { analyze: analysis.summary, compile: compile.summary, synthesize: synthesize.summary },
    deadLetter: [...analysis.deadLetter, ...compile.deadLetter, ...synthesize.deadLetter],
  };
}

function sumOf<Item>(items: readonly Item[], count: (item: Item) => number): number {
  return items.reduce((sum, item) => sum + count(item), 0);
}
