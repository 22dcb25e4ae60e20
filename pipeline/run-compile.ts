import { join, resolve } from 'node:path';
import { readAnalysisCheckpoint, analysisCheckpointPath } from '../stages/analyze/analysis-checkpoint.ts';
import { compilePrompts } from '../stages/compile/compile-prompts.ts';
import { compileSettingsSchema } from '../stages/compile/compile-settings.ts';
import { compilePromptTemplates, readTemplateSources } from '../stages/compile/load-prompt-templates.ts';
import { fingerprintCompile, promptsCheckpointPath, readPromptsCheckpoint, writePromptsCheckpoint } from '../stages/compile/prompts-checkpoint.ts';
import type { GenerationPrompt } from '../schemas/generation-prompt.ts';
import { ChargenError } from './errors.ts';
import type { Logger } from './logger.ts';

const packageRoot = join(import.meta.dirname, '..');

export interface CompileSummary {
  status: 'done' | 'skipped' | 'dry-run';
  items: number;
  checkpoint: string;
  fingerprint: string;
}

/**
 * `chargen run --only compile`: prompts from the analysis checkpoint. Skipped when nothing it depends on changed;
 * with `dryRun`, the prompts are handed back to be printed and nothing is written.
 */
export async function runCompile(options: { cwd: string; workdir: string; logger: Logger; dryRun: boolean }): Promise<CompileSummary & { prompts: GenerationPrompt[] }> {
  const workspaceDirectory = resolve(options.cwd, options.workdir);
  const analysis = await readAnalysisCheckpoint(workspaceDirectory);
  if (!analysis) {
    throw new ChargenError({
      code: 'checkpoint-missing',
      message: `No analysis checkpoint at ${analysisCheckpointPath(workspaceDirectory)}: run \`chargen run --only analyze\` first.`,
    });
  }
  const settings = compileSettingsSchema.parse({});
  const templates = compilePromptTemplates(await readTemplateSources(settings.templateDirectory ? resolve(options.cwd, settings.templateDirectory) : join(packageRoot, 'templates')));
  const fingerprint = fingerprintCompile({ records: analysis.records, templatesFingerprint: templates.fingerprint, settings });
  const checkpoint = promptsCheckpointPath(workspaceDirectory);
  const previous = await readPromptsCheckpoint(workspaceDirectory);
  if (!options.dryRun && previous?.fingerprint === fingerprint) {
    options.logger.info(`compile: records, templates and settings unchanged; ${previous.prompts.length} prompts kept`);
    return { status: 'skipped', items: previous.prompts.length, checkpoint, fingerprint, prompts: previous.prompts };
  }
  const prompts = compilePrompts({ records: analysis.records, templates, settings });
  if (!options.dryRun) await writePromptsCheckpoint(workspaceDirectory, { fingerprint, prompts });
  return { status: options.dryRun ? 'dry-run' : 'done', items: prompts.length, checkpoint, fingerprint, prompts };
}
