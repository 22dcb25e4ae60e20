import { toStageChunking } from '../../lib/gemini/run-chunks-within-budget.ts';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readAnalysisState, readAnalyzeFailuresFrom, writeAnalysisCheckpoint } from './analysis-checkpoint.ts';
import { readCheckpointStore } from '../../lib/store/checkpoint-store.ts';
import { analyzeImages } from './analyze-images.ts';
import { describeLeftOut, findNestedFolders } from './find-nested-folders.ts';
import { fingerprintAnalyze } from './core/fingerprint-analyze.ts';
import { listWrittenFolders, type InputListing } from './list-input-folder.ts';
import type { AnalysisCheckpoint } from './analysis-result.ts';
import type { StageContext } from '../stage-context.ts';
import type { StageStep, StepResult } from '../stage-step.ts';
import { formatCount } from '../../lib/format-count.ts';
import { packageRoot } from '../../lib/package-root.ts';


export async function readAnalysisTemplate(): Promise<string> {
  return readFile(join(packageRoot, 'templates', 'analysis.hbs'), 'utf8');
}

export { listWrittenFolders };

/** The fingerprint of what analyze consumes now; an input folder that cannot be scanned has no files. */
export async function fingerprintAnalyzeStep(context: StageContext): Promise<string> {
  const listing = await context.listInput().catch(() => undefined);
  return fingerprintAnalyze({ files: listing?.files ?? [], settings: context.config.analyze, template: await readAnalysisTemplate(), backend: context.backendIdentity, codeVersion: context.codeVersion });
}

/** What the step reports of a checkpoint: its records counted, its failures listed (dead letters). */
export function summarizeAnalysis(checkpoint: { records: number; failures: { sourcePath: string; reason: string }[] }, counts: { cached: number; requestsSent: number; skipped: boolean }): StepResult {
  const failed = checkpoint.failures.length;
  return {
    summary: {
      status: counts.skipped ? 'skipped' : failed > 0 ? 'done-with-failures' : 'done',
      total: checkpoint.records + failed,
      succeeded: checkpoint.records,
      failed,
      cached: counts.cached,
      requestsSent: counts.requestsSent,
    },
    deadLetter: checkpoint.failures.map((failure) => ({ stage: 'analyze', source: failure.sourcePath, reason: failure.reason })),
  };
}

/**
 * The input folder's listing, and what it leaves out said once a run (folders chargen writes to, images chargen
 * made), whether or not the images are analysed again.
 */
export async function listAnalyzeInput(context: StageContext): Promise<InputListing | undefined> {
  const listing = await context.listInput().catch(() => undefined);
  const found = listing?.chargenOutputs ?? [];
  const chargenOutputs = { count: found.length, ...(found[0] !== undefined ? { example: found[0] } : {}) };
  const nested = await findNestedFolders({ inputDirectory: context.inputDirectory, folders: listWrittenFolders(context) });
  const leftOut = describeLeftOut({ nested, chargenOutputs });
  if (leftOut) context.logger.info(`analyze: ${leftOut}`);
  return listing;
}

/** Writes the analysis checkpoint for a result (the step's, or the chunks' of a run that flowed) and says what it holds. */
export async function recordAnalysis(context: StageContext, options: { fingerprint: string; result: Omit<AnalysisCheckpoint, 'kind' | 'version' | 'fingerprint'> }): Promise<StepResult> {
  await writeAnalysisCheckpoint(context.workspace.directory, { ...options.result, fingerprint: options.fingerprint });
  const report = context.reports.get('analyze');
  return summarizeAnalysis({ records: options.result.records.length, failures: options.result.failures }, { cached: report?.cachedKeys ?? 0, requestsSent: report?.sentLines ?? 0, skipped: false });
}

export const analyzeStep: StageStep = {
  name: 'analyze',
  async isFresh(context) {
    const checkpoint = await readAnalysisState(context.workspace.directory);
    if (!checkpoint) return { fresh: false, reason: 'there is no analysis checkpoint yet' };
    if (checkpoint.fingerprint === undefined) return { fresh: false, reason: 'the last run stopped before every image was analysed' };
    if (checkpoint.fingerprint !== (await fingerprintAnalyzeStep(context))) return { fresh: false, reason: 'the images, the analyze settings or the backend changed since the last analysis' };
    if (checkpoint.retryableFailures > 0) return { fresh: false, reason: 'some images failed in a way that trying again can mend' };
    return { fresh: true, reason: 'unchanged' };
  },
  async run(context, options) {
    const fingerprint = await fingerprintAnalyzeStep(context);
    const listing = await listAnalyzeInput(context);
    // Forced (--from): the old checkpoint is not even read, so a damaged one is simply replaced.
    const previous = options.force ? undefined : await readAnalysisState(context.workspace.directory);
    if (previous?.fingerprint === fingerprint && previous.retryableFailures === 0) {
      context.logger.info(`analyze: ${formatCount(previous.records, 'record')} unchanged (images, settings and template as before)`);
      const failures = readCheckpointStore(context.workspace.directory, readAnalyzeFailuresFrom) ?? [];
      return summarizeAnalysis({ records: previous.records, failures }, { cached: previous.records, requestsSent: 0, skipped: true });
    }
    const backend = await context.connect();
    const result = await analyzeImages({
      inputDirectory: context.inputDirectory,
      settings: context.config.analyze,
      instructionTemplate: await readAnalysisTemplate(),
      exclude: listWrittenFolders(context),
      ...(listing ? { scanned: listing.entries } : {}),
      upload: backend.upload,
      executor: backend.executor,
      logger: context.logger,
      // Run on its own (--only analyze) the stage's images go up chunk by chunk, within the storage budget.
      chunking: toStageChunking(backend),
    });
    return recordAnalysis(context, { fingerprint, result });
  },
};
