import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PromptReference } from '../../schemas/generation-prompt.ts';
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
import { synthesizeChunk, type SynthesizeResult } from '../../stages/synthesize/synthesize-images.ts';
import type { PreparedOutputFolder } from '../../stages/synthesize/prepare-output-folder.ts';
import { toSynthesisBackend, type SynthesizeFailure } from '../../stages/synthesize/synthesize-images-options.ts';
import { carrySheets, makeSheets, type SheetsResult } from '../../stages/synthesize/make-sheets.ts';

/** What one chunk leaves in memory once its items are in the checkpoints: counts for the run's summary. */
export interface FlowChunkResult {
  prompts: number;
  /** Outputs found current, nothing asked. */
  unchanged: number;
  report: SynthesizeResult['report'];
  /** synthesize.sheet: what the chunk's turnaround sheets cost, and the ones that failed (dead letters). */
  sheets?: { report: SynthesizeResult['report']; made: number; unchanged: number; failures: SynthesizeFailure[] };
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
  const compiled = compilePrompts({ records: analysis.records, templates: options.templates, settings: config.compile });
  logger.info(`compile: ${formatCount(compiled.length, 'prompt')}${options.chunkLabel ? ` (${options.chunkLabel})` : ''}`);
  options.onStage('synthesize');
  const images = {
    settings: config.synthesize,
    folders: { input: context.inputDirectory, output: context.outputDirectory, workspace: context.workspace.directory },
    backend: toSynthesisBackend(backend),
    logger,
    folder: options.folder,
    ...label,
  };
  // synthesize.sheet: each character's turnaround sheet first, then its shots carrying it (sheets off: as before).
  const sheets: SheetsResult | undefined = config.synthesize.sheet ? await makeSheets({ ...images, analyzed: analysis.records, templates: options.templates, compileSettings: config.compile }) : undefined;
  const carried = sheets ? carrySheets({ prompts: compiled, sheets: sheets.sheets, failures: sheets.failures }) : { prompts: compiled, asked: compiled, waiting: [] };
  options.record.prompts(carried.prompts);
  const heldSheets = sheets ? await holdSheetUploads({ backend, sheets: sheets.sheets, outputDirectory: context.outputDirectory }) : undefined;
  let synthesis: SynthesizeResult;
  try {
    synthesis = await synthesizeChunk({
      ...images,
      prompts: carried.asked,
      records: new Map(analysis.records.map((entry) => [entry.sourcePath, entry.record])),
      onUnchanged: (count) => (count > 0 ? logger.progress?.({ stage: 'synthesize', withoutRequest: count }) : undefined),
    });
    // The shots are made: no job of this run reads the chunk's sheets any more (a chunk that stops keeps them).
    await backend.releaseUploads(heldSheets?.sha256s ?? []);
  } finally {
    heldSheets?.giveBack();
  }
  synthesis.failures.push(...carried.waiting);
  options.record.synthesis(synthesis);
  return {
    prompts: carried.prompts.length,
    unchanged: synthesis.outputs.filter((output) => output.status === 'unchanged').length,
    report: synthesis.report,
    ...(sheets ? { sheets: { report: sheets.report, made: sheets.sheets.size, unchanged: sheets.unchanged, failures: sheets.failures } } : {}),
  };
}

/**
 * The chunk's turnaround sheets, as their shots upload them, counted in the storage budget's part for sheets (their
 * size is known once they are made): waits until they fit.
 */
async function holdSheetUploads(options: { backend: ConnectedBackend; sheets: ReadonlyMap<string, PromptReference>; outputDirectory: string }): Promise<{ sha256s: string[]; giveBack: () => void }> {
  const sizes = new Map<string, number>();
  for (const sheet of options.sheets.values()) {
    if (!sizes.has(sheet.sha256)) sizes.set(sheet.sha256, (await stat(join(options.outputDirectory, sheet.path)).catch(() => undefined))?.size ?? 0);
  }
  const giveBack = await options.backend.storage.reserveSheets([...sizes.values()].reduce((sum, size) => sum + size, 0));
  return { sha256s: [...sizes.keys()], giveBack };
}

