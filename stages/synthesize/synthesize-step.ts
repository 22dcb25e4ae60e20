import { stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { readAnalysisCheckpoint } from '../analyze/analysis-checkpoint.ts';
import { readPromptsCheckpoint } from '../compile/prompts-checkpoint.ts';
import { fingerprintSynthesize } from './core/fingerprint-synthesize.ts';
import { readSynthesizeCheckpoint, writeSynthesizeCheckpoint, type SynthesizeCheckpoint } from './synthesize-checkpoint.ts';
import { synthesizeImages, type SynthesizeResult } from './synthesize-images.ts';
import { toSynthesisBackend } from './synthesize-images-options.ts';
import type { GenerationPrompt } from '../../schemas/generation-prompt.ts';
import { CheckpointError } from '../../lib/errors.ts';
import type { StageContext } from '../stage-context.ts';
import type { StageStep, StepResult } from '../stage-step.ts';

/** What synthesize consumes: the prompts (key, source, variant), its settings, the output folder, the backend, the code. */
export function fingerprintSynthesizeStep(context: StageContext, prompts: readonly GenerationPrompt[]): string {
  return fingerprintSynthesize({ prompts, settings: context.config.synthesize, outputDirectory: context.outputDirectory, backend: context.backendIdentity, codeVersion: context.codeVersion });
}

export async function readPrompts(context: StageContext): Promise<GenerationPrompt[]> {
  const checkpoint = await readPromptsCheckpoint(context.workspace.directory);
  if (!checkpoint) throw new CheckpointError({ message: 'There are no compiled prompts: run `chargen run` (or `chargen run --only compile`) first.' });
  return checkpoint.prompts;
}

async function outputsPresent(context: StageContext, checkpoint: SynthesizeCheckpoint): Promise<boolean> {
  for (const output of checkpoint.outputs) {
    for (const file of [output.image, output.sidecar]) {
      if (!(await stat(join(context.outputDirectory, file)).catch(() => undefined))) return false;
    }
  }
  return true;
}

function summarize(checkpoint: Pick<SynthesizeCheckpoint, 'outputs' | 'failures'>, counts: { cached: number; requestsSent: number; status: StepResult['summary']['status'] }): StepResult {
  const failed = checkpoint.failures.length;
  return {
    summary: { status: counts.status, total: checkpoint.outputs.length + failed, succeeded: checkpoint.outputs.length, failed, cached: counts.cached, requestsSent: counts.requestsSent },
    deadLetter: checkpoint.failures.map((failure) => ({
      stage: 'synthesize',
      source: failure.variant > 1 ? `${failure.sourcePath} (variant ${failure.variant})` : failure.sourcePath,
      reason: failure.reason,
    })),
  };
}

/**
 * Writes the synthesize checkpoint for a result (the step's, or the chunks' of a run that flowed) and says what it
 * holds: the outputs by their names in the output folder, the failures, and what was sent and reused.
 */
export async function recordSynthesis(context: StageContext, options: { fingerprint: string; result: SynthesizeResult }): Promise<StepResult> {
  const { result } = options;
  const checkpoint = {
    fingerprint: options.fingerprint,
    outputs: result.outputs.map((output) => ({
      sourcePath: output.sourcePath,
      variant: output.variant,
      key: output.key,
      image: relative(context.outputDirectory, output.image),
      sidecar: relative(context.outputDirectory, output.sidecar),
    })),
    failures: result.failures,
    warnings: result.warnings,
  };
  await writeSynthesizeCheckpoint(context.workspace.directory, checkpoint);
  const unchanged = result.outputs.filter((output) => output.status === 'unchanged').length;
  return summarize(checkpoint, {
    cached: unchanged + result.report.cachedKeys,
    requestsSent: result.report.sentLines,
    status: result.failures.length > 0 ? 'done-with-failures' : 'done',
  });
}

export const synthesizeStep: StageStep = {
  name: 'synthesize',
  async isFresh(context) {
    const checkpoint = await readSynthesizeCheckpoint(context.workspace.directory);
    if (!checkpoint) return { fresh: false, reason: 'no images were made yet' };
    if (checkpoint.fingerprint !== fingerprintSynthesizeStep(context, await readPrompts(context))) return { fresh: false, reason: 'the prompts or settings changed' };
    if (!(await outputsPresent(context, checkpoint))) return { fresh: false, reason: 'some images are missing from the output folder' };
    if (checkpoint.failures.some((failure) => failure.retryable)) return { fresh: false, reason: 'some images failed in a way that trying again can mend' };
    return { fresh: true, reason: 'unchanged' };
  },
  async run(context, options) {
    const prompts = await readPrompts(context);
    const fingerprint = fingerprintSynthesizeStep(context, prompts);
    const previous = options.force ? undefined : await readSynthesizeCheckpoint(context.workspace.directory);
    if (previous?.fingerprint === fingerprint && !previous.failures.some((failure) => failure.retryable) && (await outputsPresent(context, previous))) {
      context.logger.info(`synthesize: ${previous.outputs.length} images unchanged`);
      return summarize(previous, { cached: previous.outputs.length, requestsSent: 0, status: 'skipped' });
    }
    const backend = await context.connect();
    const analysis = await readAnalysisCheckpoint(context.workspace.directory);
    const result = await synthesizeImages({
      prompts,
      records: new Map((analysis?.records ?? []).map((entry) => [entry.sourcePath, entry.record])),
      settings: context.config.synthesize,
      folders: { input: context.inputDirectory, output: context.outputDirectory, workspace: context.workspace.directory },
      backend: toSynthesisBackend(backend),
      logger: context.logger,
    });
    return recordSynthesis(context, { fingerprint, result });
  },
};
