import { join, relative, resolve } from 'node:path';
import { readAnalysisCheckpoint } from '../analyze/analysis-checkpoint.ts';
import { compilePrompts } from './core/compile-prompts.ts';
import { compilePromptTemplates, readTemplateSources, type PromptTemplates } from './load-prompt-templates.ts';
import { fingerprintCompile, readPromptsCheckpoint, writePromptsCheckpoint, type PromptsCheckpoint } from './prompts-checkpoint.ts';
import type { GenerationPrompt } from '../../schemas/generation-prompt.ts';
import { CheckpointError, WorkspaceFileError } from '../../lib/errors.ts';
import type { StageContext } from '../stage-context.ts';
import type { StageStep } from '../stage-step.ts';
import { formatCount } from '../../lib/format-count.ts';
import { packageRoot } from '../../lib/package-root.ts';


/** The configured templates (or the built-in ones), read and compiled: a TemplateError says which file and where. */
export async function readPromptTemplates(options: { cwd: string; templateDirectory: string | undefined }): Promise<PromptTemplates> {
  const directory = options.templateDirectory;
  return compilePromptTemplates(await readTemplateSources(directory ? resolve(options.cwd, directory) : join(packageRoot, 'templates')));
}

export function loadPromptTemplates(context: StageContext): Promise<PromptTemplates> {
  return readPromptTemplates({ cwd: context.cwd, templateDirectory: context.config.compile.templateDirectory });
}

/** The prompts compile would write now, with their fingerprint; pure apart from reading the checkpoint and templates. */
export async function planCompile(context: StageContext): Promise<{ fingerprint: string; prompts: GenerationPrompt[] }> {
  const analysis = await readAnalysisCheckpoint(context.workspace.directory);
  if (!analysis) throw new CheckpointError({ message: 'There is no analysis checkpoint: run `chargen run` (or `chargen run --only analyze`) first.' });
  const templates = await loadPromptTemplates(context);
  const settings = context.config.compile;
  return {
    fingerprint: fingerprintCompile({ records: analysis.records, templatesFingerprint: templates.fingerprint, settings }),
    prompts: compilePrompts({ records: analysis.records, templates, settings }),
  };
}

/**
 * The prompts an earlier run compiled; `damaged` when the file is there but unreadable or invalid. Compiling costs
 * nothing, so a damaged file is replaced instead of stopping the run.
 */
async function readPreviousPrompts(context: StageContext): Promise<{ checkpoint?: PromptsCheckpoint; damaged?: string }> {
  try {
    const checkpoint = await readPromptsCheckpoint(context.workspace.directory);
    return checkpoint ? { checkpoint } : {};
  } catch (error) {
    if (!(error instanceof WorkspaceFileError)) throw error;
    return { damaged: relative(context.cwd, error.path) || error.path };
  }
}

export const compileStep: StageStep = {
  name: 'compile',
  async isFresh(context) {
    const { checkpoint, damaged } = await readPreviousPrompts(context);
    if (damaged) return { fresh: false, reason: `${damaged} is damaged` };
    if (!checkpoint) return { fresh: false, reason: 'there are no compiled prompts yet' };
    const { fingerprint } = await planCompile(context);
    if (checkpoint.fingerprint !== fingerprint) return { fresh: false, reason: 'the analysis records, the templates or the compile settings changed since the prompts were compiled' };
    return { fresh: true, reason: 'unchanged' };
  },
  async run(context, options) {
    const planned = await planCompile(context);
    const { checkpoint: previous, damaged } = options.force ? {} : await readPreviousPrompts(context);
    if (damaged) context.logger.warn(`${damaged} is damaged; compiling the prompts again (it costs nothing)`);
    const skipped = previous?.fingerprint === planned.fingerprint;
    if (skipped) {
      context.logger.info(`compile: ${formatCount(planned.prompts.length, 'prompt')} unchanged`);
    } else {
      await writePromptsCheckpoint(context.workspace.directory, planned);
      context.logger.info(`compile: ${formatCount(planned.prompts.length, 'prompt')} written`);
    }
    const total = planned.prompts.length;
    return { summary: { status: skipped ? 'skipped' : 'done', total, succeeded: total, failed: 0, cached: 0, requestsSent: 0 }, deadLetter: [] };
  },
};
