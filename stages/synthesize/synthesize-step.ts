import { toStageChunking } from '../../lib/gemini/run-chunks-within-budget.ts';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readAnalyzedImagePages } from '../analyze/analysis-checkpoint.ts';
import { readPromptPages } from '../compile/prompts-checkpoint.ts';
import { createSynthesizeFingerprint } from './core/fingerprint-synthesize.ts';
import { readSynthesisFailuresFrom, readSynthesisOutputPages, readSynthesisStateFrom, toSynthesisItems, type SynthesisState } from './synthesize-checkpoint.ts';
import { synthesizeImages, type SynthesizeFailure, type SynthesizeResult } from './synthesize-images.ts';
import { toSynthesisBackend } from './synthesize-images-options.ts';
import type { GenerationPrompt } from '../../schemas/generation-prompt.ts';
import { CheckpointError } from '../../lib/errors.ts';
import { readCheckpointStore, readCheckpointStoreAsync, writeCheckpointStore, type CheckpointStore } from '../../lib/store/checkpoint-store.ts';
import type { StageContext } from '../stage-context.ts';
import type { StageStep, StepResult } from '../stage-step.ts';

const noPromptsMessage = 'There are no compiled prompts: run `chargen run` (or `chargen run --only compile`) first.';

/**
 * What synthesize consumes: the prompts (key, source, variant), its settings, the output folder, the backend, the
 * code; read from the compile checkpoint a page at a time.
 */
export function fingerprintSynthesizeFrom(context: StageContext, store: CheckpointStore): string {
  if (!store.readState('compile')) throw new CheckpointError({ message: noPromptsMessage });
  const fingerprint = createSynthesizeFingerprint({ settings: context.config.synthesize, outputDirectory: context.outputDirectory, backend: context.backendIdentity, codeVersion: context.codeVersion });
  for (const prompts of readPromptPages(store)) fingerprint.add(prompts);
  return fingerprint.digest();
}

/** The whole list of prompts, for the synthesize step run on its own (a run that flows takes them a chunk at a time). */
export async function readPrompts(context: StageContext): Promise<GenerationPrompt[]> {
  const prompts = readCheckpointStore(context.workspace.directory, (store) => (store.readState('compile') ? [...readPromptPages(store)].flat() : undefined));
  if (!prompts) throw new CheckpointError({ message: noPromptsMessage });
  return prompts;
}

async function outputsPresent(context: StageContext, store: CheckpointStore): Promise<boolean> {
  for (const outputs of readSynthesisOutputPages(store)) {
    for (const output of outputs) {
      for (const file of [output.image, output.sidecar]) {
        if (!(await stat(join(context.outputDirectory, file)).catch(() => undefined))) return false;
      }
    }
  }
  return true;
}

/** What the step reports of a checkpoint: its outputs counted, its failures listed (dead letters). */
export function summarizeSynthesis(checkpoint: { outputs: number; failures: readonly SynthesizeFailure[] }, counts: { cached: number; requestsSent: number; status: StepResult['summary']['status'] }): StepResult {
  const failed = checkpoint.failures.length;
  return {
    summary: { status: counts.status, total: checkpoint.outputs + failed, succeeded: checkpoint.outputs, failed, cached: counts.cached, requestsSent: counts.requestsSent },
    deadLetter: checkpoint.failures.map((failure) => ({
      stage: 'synthesize',
      source: failure.shot !== undefined ? `${failure.sourcePath} (shot ${JSON.stringify(failure.shot)})` : failure.variant > 1 ? `${failure.sourcePath} (variant ${failure.variant})` : failure.sourcePath,
      reason: failure.reason,
    })),
  };
}

/** Writes the synthesize checkpoint for the step's result and says what it holds. */
export async function recordSynthesis(context: StageContext, options: { fingerprint: string; result: SynthesizeResult }): Promise<StepResult> {
  const { result } = options;
  const items = toSynthesisItems({ outputDirectory: context.outputDirectory, outputs: result.outputs, failures: result.failures });
  writeCheckpointStore(context.workspace.directory, (store) => store.replace('synthesize', { fingerprint: options.fingerprint, items, warnings: result.warnings }));
  const unchanged = result.outputs.filter((output) => output.status === 'unchanged').length;
  return summarizeSynthesis({ outputs: result.outputs.length, failures: result.failures }, {
    cached: unchanged + result.report.cachedKeys,
    requestsSent: result.report.sentLines,
    status: result.failures.length > 0 ? 'done-with-failures' : 'done',
  });
}

/** Whether the checkpoint is current, and why not; with its state, for a step that finds nothing to do. */
async function checkSynthesis(context: StageContext): Promise<{ fresh: boolean; reason: string; state?: SynthesisState; failures?: SynthesizeFailure[] }> {
  const directory = context.workspace.directory;
  const found = readCheckpointStore(directory, (checkpoints) => ({ state: readSynthesisStateFrom(checkpoints), fingerprint: checkpoints.readState('synthesize') ? fingerprintSynthesizeFrom(context, checkpoints) : undefined }));
  const state = found?.state;
  if (!state || state.fingerprint === undefined) return { fresh: false, reason: 'no images were made yet' };
  if (state.fingerprint !== found?.fingerprint) return { fresh: false, reason: 'the prompts or settings changed' };
  if (state.retryableFailures > 0) return { fresh: false, reason: 'some images failed in a way that trying again can mend' };
  if (!(await readCheckpointStoreAsync(directory, (checkpoints) => outputsPresent(context, checkpoints)))) return { fresh: false, reason: 'some images are missing from the output folder' };
  return { fresh: true, reason: 'unchanged', state, failures: readCheckpointStore(directory, readSynthesisFailuresFrom) ?? [] };
}

export const synthesizeStep: StageStep = {
  name: 'synthesize',
  async isFresh(context) {
    const { fresh, reason } = await checkSynthesis(context);
    return { fresh, reason };
  },
  async run(context, options) {
    const current = options.force ? undefined : await checkSynthesis(context);
    if (current?.fresh && current.state) {
      context.logger.info(`synthesize: ${current.state.outputs} images unchanged`);
      return summarizeSynthesis({ outputs: current.state.outputs, failures: current.failures ?? [] }, { cached: current.state.outputs, requestsSent: 0, status: 'skipped' });
    }
    const prompts = await readPrompts(context);
    const fingerprint = readCheckpointStore(context.workspace.directory, (store) => fingerprintSynthesizeFrom(context, store)) ?? '';
    const backend = await context.connect();
    const records = new Map((readCheckpointStore(context.workspace.directory, (store) => [...readAnalyzedImagePages(store)].flat()) ?? []).map((entry) => [entry.sourcePath, entry.record]));
    const result = await synthesizeImages({
      prompts,
      records,
      settings: context.config.synthesize,
      folders: { input: context.inputDirectory, output: context.outputDirectory, workspace: context.workspace.directory },
      backend: toSynthesisBackend(backend),
      logger: context.logger,
      // Run on its own (--from, --only) the stage's references go up chunk by chunk, within the storage budget.
      chunking: toStageChunking(backend),
    });
    return recordSynthesis(context, { fingerprint, result });
  },
};
