import { listShots } from '../../schemas/shot-settings.ts';
import { JobsPendingError } from '../../lib/errors.ts';
import type { Logger, ProgressEvent } from '../../lib/logger.ts';
import { runChunksWithinBudget } from '../../lib/gemini/run-chunks-within-budget.ts';
import { fingerprintAnalyzeStep, listAnalyzeInput, listWrittenFolders, readAnalysisTemplate, summarizeAnalysis } from '../../stages/analyze/analyze-step.ts';
import { collectInputImages, type CollectedImages } from '../../stages/analyze/analyze-images.ts';
import { groupBySentReferences, measureCharactersBytes, type InputCharacter } from '../../stages/analyze/collect-input-images.ts';
import { findAnalysisImageLimit } from '../../stages/analyze/core/plan-characters.ts';
import { findServedModel } from '../../schemas/gemini-models.ts';
import { loadPromptTemplates } from '../../stages/compile/compile-step.ts';
import { readAnalysisStateFrom, readAnalyzedImagePages, readAnalyzeFailuresFrom, toAnalysisItems } from '../../stages/analyze/analysis-checkpoint.ts';
import { readSynthesisFailuresFrom, toSynthesisItems } from '../../stages/synthesize/synthesize-checkpoint.ts';
import { toPromptItems } from '../../stages/compile/prompts-checkpoint.ts';
import { createCompileFingerprint } from '../../stages/compile/core/fingerprint-compile.ts';
import type { PromptTemplates } from '../../stages/compile/load-prompt-templates.ts';
import { openCheckpointStore, type CheckpointStore } from '../../lib/store/checkpoint-store.ts';
import { formatCount } from '../../lib/format-count.ts';
import type { StageContext } from '../../stages/stage-context.ts';
import type { DeadLetter, StageName, StageSummary } from '../../stages/stage-step.ts';
import { prepareOutputFolder } from '../../stages/synthesize/prepare-output-folder.ts';
import { fingerprintSynthesizeFrom, summarizeSynthesis } from '../../stages/synthesize/synthesize-step.ts';
import { runFlowChunk, type FlowChunkRecorder, type FlowChunkResult } from './flow-chunk.ts';
import { sumOf } from '../../lib/sum-of.ts';
import { hashCanonical } from '../../lib/canonical-json.ts';
import { sheetShotName } from '../../stages/compile/core/compile-sheets.ts';

/** How a run that flowed ended: every chunk through (checkpoints complete), or stopped in a stage (checkpoints left being written). */
export type FlowOutcome =
  | { status: 'done'; stages: Record<StageName, StageSummary>; deadLetter: DeadLetter[] }
  | { status: 'stopped'; stage: StageName; error: unknown; pendingJobs: number };

type FlowChunkEnd = { status: 'done'; result: FlowChunkResult } | { status: 'stopped'; stage: StageName; error: unknown };

/** The characters of one chunk as a collection of their own. */
function toChunkCollection(characters: readonly InputCharacter[]): CollectedImages {
  return { characters: [...characters], failures: [], warnings: [] };
}

/** The chunks' loggers: counts of the whole run are the runner's to say; answers, jobs and lines go through. */
function createChunkLogger(logger: Logger): Logger {
  const progress = logger.progress?.bind(logger);
  const chunkLogger: Logger = { print: (line) => logger.print(line), info: (line) => logger.info(line), warn: (line) => logger.warn(line), error: (line) => logger.error(line) };
  if (progress) chunkLogger.progress = (event: ProgressEvent) => (event.done === undefined && event.total === undefined ? progress(event) : undefined);
  return chunkLogger;
}

/** Each chunk's items into the checkpoints as its stages finish with them, one transaction each. */
function createChunkRecorder(context: StageContext, store: CheckpointStore): FlowChunkRecorder {
  return {
    analysis: (result) => store.putItems('analyze', toAnalysisItems(result)),
    prompts: (prompts) => store.putItems('compile', toPromptItems(prompts)),
    synthesis: (result) => store.putItems('synthesize', toSynthesisItems({ outputDirectory: context.outputDirectory, ...result }), result.warnings),
  };
}

/**
 * `chargen run` over stages that all need to run: the images cut into chunks (gemini.chunkMaxLines each) that go
 * through analyze → compile → synthesize each on its own, so a chunk's images are made while others are still
 * analysed and one stuck job holds only its own chunk. Jobs are bounded by the backend's one limiter
 * (maxJobsInFlight), chunks under way by the same number. Each chunk's records, prompts and outputs go into the
 * checkpoint store as it finishes with them, so the run holds no item beyond the chunks under way; the checkpoints
 * are marked as being written until every chunk is through, when their fingerprints are written. A run stopped
 * before (interrupted, jobs left running) leaves them being written (never fresh), and the next run finds every
 * answer in the workspace's caches.
 */
export async function runFlow(context: StageContext, options: { forced: ReadonlySet<StageName> }): Promise<FlowOutcome> {
  // A damaged checkpoint database stops the run here, naming its fix.
  const store = openCheckpointStore({ workspaceDirectory: context.workspace.directory, now: Date.now });
  try {
    return await flowThroughChunks(context, { ...options, store });
  } finally {
    store.close();
  }
}

async function flowThroughChunks(context: StageContext, options: { forced: ReadonlySet<StageName>; store: CheckpointStore }): Promise<FlowOutcome> {
  const { config, logger } = context;
  const { store } = options;
  const fingerprint = await fingerprintAnalyzeStep(context);
  const listing = await listAnalyzeInput(context);
  const instructionTemplate = await readAnalysisTemplate();
  // A template error stops the run here, before anything is uploaded or sent.
  const templates = await loadPromptTemplates(context);
  const backend = await context.connect();
  const collected = await collectInputImages({ inputDirectory: context.inputDirectory, settings: config.analyze, logger, exclude: listWrittenFolders(context), ...(listing ? { scanned: listing.entries } : {}) });
  const shots = listShots(config.compile.variants);
  // synthesize.sheet: each character's turnaround sheet has a name of its own beside its shots'.
  const sheetShots = config.synthesize.sheet ? [{ variant: 1, name: sheetShotName }] : [];
  const entries = collected.characters.flatMap((character) => [...shots, ...sheetShots].map((shot) => ({ sourcePath: character.name, variant: shot.variant, ...(shot.name !== undefined ? { shot: shot.name } : {}) })));
  const folder = await prepareOutputFolder({ entries, folders: { input: context.inputDirectory, output: context.outputDirectory, workspace: context.workspace.directory }, logger });
  // A character uploads no more references than its analysis or its image requests carry.
  const uploadLimit = Math.max(findAnalysisImageLimit(config.analyze), findServedModel(config.compile.model)?.image?.maxReferenceImages ?? Number.POSITIVE_INFINITY);
  // Compile is "unchanged" when the run compiles the same prompts as before (a forced analysis of the same images).
  const previousCompile = store.readState('compile')?.fingerprint;
  // Analysis current at the start (a run after a template change): every chunk's analyses come from the workspace.
  // Its checkpoint is then not emptied (a run stopped now leaves it current): each chunk's analyses replace their own.
  const previousAnalysis = readAnalysisStateFrom(store);
  const analysisFresh = !options.forced.has('analyze') && previousAnalysis?.fingerprint === fingerprint && previousAnalysis.retryableFailures === 0;
  store.begin(analysisFresh ? ['compile', 'synthesize'] : ['analyze', 'compile', 'synthesize']);
  if (!analysisFresh) store.putItems('analyze', toAnalysisItems({ records: [], failures: collected.failures }), collected.warnings);
  logger.progress?.({ stage: 'analyze', done: 0, total: collected.characters.length });
  logger.progress?.({ stage: 'synthesize', done: 0, total: entries.length });
  const chunkLogger = createChunkLogger(logger);
  const record = createChunkRecorder(context, store);
  // Where each chunk was when it stopped, to say where the run stopped.
  const stages = new Map<number, StageName>();
  const ends = await runChunksWithinBudget({
    // Characters analysed by one request (the same references) stay in one chunk: never asked (and paid) twice at once.
    items: groupBySentReferences(collected.characters),
    maxItemsPerChunk: backend.settings.chunkMaxLines,
    concurrency: backend.settings.maxJobsInFlight,
    storage: backend.storage,
    sizeOf: (group) => measureCharactersBytes(group, uploadLimit),
    uploadsOf: (group) => group.flatMap((character) => character.references.map((image) => image.sha256)),
    releaseUploads: (sha256s) => backend.releaseUploads(sha256s),
    work: (groups, { index, label }) =>
      runFlowChunk({ context, backend, collected: toChunkCollection(groups.flat()), instructionTemplate, templates, folder, logger: chunkLogger, onStage: (name) => stages.set(index, name), record, ...(label ? { chunkLabel: label } : {}) }),
  });
  const stop = findStop(ends.map((end, index) => (end.status === 'done' ? end : { ...end, stage: stages.get(index) ?? 'analyze' })));
  if (stop) return stop;
  const results = ends.flatMap((end) => (end.status === 'done' ? [end.result] : []));
  return recordFlow(context, { store, fingerprint, templates, previousCompile, analysisFresh, images: collected.characters.length, results, forced: options.forced });
}

/** The first chunk that stopped for good (an error, an interrupt) wins over chunks whose jobs are left running. */
function findStop(ends: readonly FlowChunkEnd[]): Extract<FlowOutcome, { status: 'stopped' }> | undefined {
  const stops = ends.flatMap((end) => (end.status === 'stopped' && end.error !== undefined ? [end] : []));
  const pendingJobs = stops.reduce((sum, end) => sum + (end.error instanceof JobsPendingError ? end.error.pendingJobs : 0), 0);
  const first = stops.find((end) => !(end.error instanceof JobsPendingError)) ?? stops[0];
  if (!first) return undefined;
  const earliest = (['analyze', 'compile', 'synthesize'] as const).find((name) => stops.some((end) => end.stage === name)) ?? first.stage;
  return { status: 'stopped', stage: earliest, error: first.error, pendingJobs };
}

/** The compile fingerprint of the records every chunk wrote, read back a page at a time in the checkpoint's order. */
function fingerprintCompiled(context: StageContext, store: CheckpointStore, templates: PromptTemplates): string {
  const fingerprint = createCompileFingerprint({ templatesFingerprint: templates.fingerprint, settings: context.config.compile });
  for (const records of readAnalyzedImagePages(store)) fingerprint.add(records);
  // With sheets the prompts carry them (made by the flow alone): a later run without sheets compiles them again.
  return context.config.synthesize.sheet ? hashCanonical({ compile: fingerprint.digest(), sheet: true }) : fingerprint.digest();
}

/**
 * Every chunk through: the three checkpoints' fingerprints written (their items are in already), and what each stage
 * did, counted in the store; only the failures (the dead letters) are read back whole.
 */
async function recordFlow(
  context: StageContext,
  options: { store: CheckpointStore; fingerprint: string; templates: PromptTemplates; previousCompile: string | undefined; analysisFresh: boolean; images: number; results: FlowChunkResult[]; forced: ReadonlySet<StageName> },
): Promise<FlowOutcome> {
  const { store, results } = options;
  if (!options.analysisFresh) store.finish('analyze', options.fingerprint);
  const analyzeReport = context.reports.get('analyze');
  const analysis = summarizeAnalysis({ records: store.count('analyze', 'record'), failures: readAnalyzeFailuresFrom(store) }, { cached: analyzeReport?.cachedKeys ?? 0, requestsSent: analyzeReport?.sentLines ?? 0, skipped: options.analysisFresh && (analyzeReport?.sentLines ?? 0) === 0 });
  const compileFingerprint = fingerprintCompiled(context, store, options.templates);
  store.finish('compile', compileFingerprint);
  const prompts = store.count('compile', 'prompt');
  const compileSkipped = !options.forced.has('compile') && options.previousCompile === compileFingerprint;
  context.logger.info(`compile: ${formatCount(prompts, 'prompt')} ${compileSkipped ? 'unchanged' : 'written'}`);
  const compile = { summary: { status: compileSkipped ? 'skipped' : 'done', total: prompts, succeeded: prompts, failed: 0, cached: 0, requestsSent: 0 } satisfies StageSummary, deadLetter: [] };
  const failures = readSynthesisFailuresFrom(store);
  // Turnaround sheets (synthesize.sheet) are counted with the images: their requests, and their failures as dead letters.
  const sheetFailures = results.flatMap((result) => result.sheets?.failures ?? []);
  const outputs = store.count('synthesize', 'output');
  context.logger.progress?.({ stage: 'analyze', done: options.images, total: options.images });
  context.logger.progress?.({ stage: 'synthesize', done: outputs + failures.length, total: outputs + failures.length });
  store.finish('synthesize', fingerprintSynthesizeFrom(context, store));
  const synthesize = summarizeSynthesis(
    { outputs: outputs + sumOf(results, (result) => result.sheets?.made ?? 0), failures: [...failures, ...sheetFailures] },
    {
      cached: sumOf(results, (result) => result.unchanged + result.report.cachedKeys + (result.sheets ? result.sheets.unchanged + result.sheets.report.cachedKeys : 0)),
      requestsSent: sumOf(results, (result) => result.report.sentLines + (result.sheets?.report.sentLines ?? 0)),
      status: failures.length + sheetFailures.length > 0 ? 'done-with-failures' : 'done',
    },
  );
  return {
    status: 'done',
    stages: { analyze: analysis.summary, compile: compile.summary, synthesize: synthesize.summary },
    deadLetter: [...analysis.deadLetter, ...compile.deadLetter, ...synthesize.deadLetter],
  };
}

