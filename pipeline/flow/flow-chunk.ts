import type { ConnectedBackend } from '../../lib/gemini/connected-backend.ts';
import { formatCount } from '../../lib/format-count.ts';
import type { Logger } from '../../lib/logger.ts';
import type { AnalyzedImage, AnalyzeFailure } from '../../stages/analyze/analysis-result.ts';
import { analyzeCollectedImages, type CollectedImages } from '../../stages/analyze/analyze-images.ts';
import { compilePrompts } from '../../stages/compile/core/compile-prompts.ts';
import type { GenerationPrompt } from '../../schemas/generation-prompt.ts';
import type { PromptTemplates } from '../../stages/compile/load-prompt-templates.ts';
import type { StageContext } from '../../stages/stage-context.ts';
import type { StageName } from '../../stages/stage-step.ts';
import { synthesizeChunk, type PreparedOutputFolder, type SynthesizeResult } from '../../stages/synthesize/synthesize-images.ts';
import { toSynthesisBackend } from '../../stages/synthesize/synthesize-images-options.ts';

/** What one chunk leaves in memory once its items are in the checkpoints: counts for the run's summary. */
export interface FlowChunkResult {
  prompts: number;
  /** Outputs found current, nothing asked. */
  unchanged: number;
  report: SynthesizeResult['report'];
}

/** Where a chunk's items go as each stage finishes with them (the checkpoint store, written in one transaction each). */
export interface FlowChunkRecorder {
  analysis(result: { records: readonly AnalyzedImage[]; failures: readonly AnalyzeFailure[] }): void;
  prompts(prompts: readonly GenerationPrompt[]): void;
  synthesis(result: SynthesizeResult): void;
}

/**
 * One chunk's way through the stages on its own: its images analysed, its prompts compiled as soon as its records are
 * in, its images asked for and placed, while the run's other chunks are where they are. The stages' own code does each
 * step; each stage's items go to the checkpoints as the chunk is done with them, so the run holds none of them once
 * the chunk is through (see run-flow.ts).
 */
export async function runFlowChunk(options: {
  context: StageContext;
  backend: ConnectedBackend;
  collected: CollectedImages;
  instructionTemplate: string;
  templates: PromptTemplates;
  folder: PreparedOutputFolder;
  chunkLabel?: string;
  logger: Logger;
  /** Told as the chunk moves on to the next stage (the run says where it stopped, when it stops). */
  onStage: (stage: StageName) => void;
  record: FlowChunkRecorder;
}): Promise<FlowChunkResult> {
  const { context, backend, logger } = options;
  const { config } = context;
  const label = options.chunkLabel ? { chunkLabel: options.chunkLabel } : {};
  const analysis = await analyzeCollectedImages({
    collected: options.collected,
    settings: config.analyze,
    instructionTemplate: options.instructionTemplate,
    upload: backend.upload,
    executor: backend.executor,
    logger,
    ...label,
  });
  options.record.analysis(analysis);
  options.onStage('compile');
  const prompts = compilePrompts({ records: analysis.records, templates: options.templates, settings: config.compile });
  options.record.prompts(prompts);
  logger.info(`compile: ${formatCount(prompts.length, 'prompt')}${options.chunkLabel ? ` (${options.chunkLabel})` : ''}`);
  options.onStage('synthesize');
  const synthesis = await synthesizeChunk({
    prompts,
    records: new Map(analysis.records.map((entry) => [entry.sourcePath, entry.record])),
    settings: config.synthesize,
    folders: { input: context.inputDirectory, output: context.outputDirectory, workspace: context.workspace.directory },
    backend: toSynthesisBackend(backend),
    logger,
    folder: options.folder,
    onUnchanged: (count) => (count > 0 ? logger.progress?.({ stage: 'synthesize', withoutRequest: count }) : undefined),
    ...label,
  });
  options.record.synthesis(synthesis);
  return { prompts: prompts.length, unchanged: synthesis.outputs.filter((output) => output.status === 'unchanged').length, report: synthesis.report };
}
