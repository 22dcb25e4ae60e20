import type { ConnectedBackend } from '../../lib/gemini/connected-backend.ts';
import { formatCount } from '../../lib/format-count.ts';
import type { Logger } from '../../lib/logger.ts';
import type { AnalyzedImage, AnalyzeFailure } from '../../stages/analyze/analysis-result.ts';
import { analyzeCollectedImages, type CollectedImages } from '../../stages/analyze/analyze-images.ts';
import { compilePrompts } from '../../stages/compile/core/compile-prompts.ts';
import type { PromptTemplates } from '../../stages/compile/load-prompt-templates.ts';
import type { StageContext } from '../../stages/stage-context.ts';
import type { StageName } from '../../stages/stage-step.ts';
import { synthesizeChunk, type PreparedOutputFolder, type SynthesizeResult } from '../../stages/synthesize/synthesize-images.ts';
import { toSynthesisBackend } from '../../stages/synthesize/synthesize-images-options.ts';

/** What one chunk made of its images: their records (and failures), their prompts' count, their images. */
export interface FlowChunkResult {
  records: AnalyzedImage[];
  failures: AnalyzeFailure[];
  prompts: number;
  synthesis: SynthesizeResult;
}

/**
 * One chunk's way through the stages on its own: its images analysed, its prompts compiled as soon as its records are
 * in, its images asked for and placed, while the run's other chunks are where they are. The stages' own code does each
 * step; the checkpoints are written once every chunk is through (see run-flow.ts).
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
  options.onStage('compile');
  const prompts = compilePrompts({ records: analysis.records, templates: options.templates, settings: config.compile });
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
  return { records: analysis.records, failures: analysis.failures, prompts: prompts.length, synthesis };
}
