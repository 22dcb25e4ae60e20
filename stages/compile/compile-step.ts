import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readAnalysisCheckpoint, readAnalyzedImagePages } from '../analyze/analysis-checkpoint.ts';
import { createCompileFingerprint } from './core/fingerprint-compile.ts';
import { readCheckpointStore, writeCheckpointStore, type CheckpointStore } from '../../lib/store/checkpoint-store.ts';
import { compilePrompts } from './core/compile-prompts.ts';
import { compilePromptTemplates, readTemplateSources, sheetTemplate, type PromptTemplates } from './load-prompt-templates.ts';
import { fingerprintCompile, toPromptItems } from './prompts-checkpoint.ts';
import type { GenerationPrompt } from '../../schemas/generation-prompt.ts';
import type { AnalyzedImage } from '../analyze/analysis-result.ts';
import { CheckpointError } from '../../lib/errors.ts';
import type { StageContext } from '../stage-context.ts';
import type { StageStep } from '../stage-step.ts';
import { formatCount } from '../../lib/format-count.ts';
import { packageRoot } from '../../lib/package-root.ts';
import { listShots } from '../../schemas/shot-settings.ts';
import type { CompileSettings } from '../../schemas/compile-settings.ts';


const shotPartial = 'partials/shot.hbs';
const noAnalysisMessage = 'There is no analysis checkpoint: run `chargen run` (or `chargen run --only analyze`) first.';

/** The configured templates (or the built-in ones), read and compiled: a TemplateError says which file and where. */
export async function readPromptTemplates(options: { cwd: string; templateDirectory: string | undefined; variants?: CompileSettings['variants'] }): Promise<PromptTemplates> {
  const directory = options.templateDirectory;
  const sources = await readTemplateSources(directory ? resolve(options.cwd, directory) : join(packageRoot, 'templates'));
  // A folder of templates copied before shots existed can say {{> shot}} without having the partial: the built-in one.
  if (sources.files[shotPartial] === undefined) sources.files[shotPartial] = await readFile(join(packageRoot, 'templates', shotPartial), 'utf8');
  // A folder of templates without its own sheet.hbs: the built-in one (read, and used, only with synthesize.sheet).
  if (sources.files[sheetTemplate] === undefined) sources.files[sheetTemplate] = await readFile(join(packageRoot, 'templates', sheetTemplate), 'utf8');
  const templates = compilePromptTemplates(sources);
  const named = options.variants === undefined ? [] : listShots(options.variants).filter((shot) => shot.name !== undefined);
  // Found now, before the analysis is paid for; compile checks the prompts themselves too (a shot used but hidden).
  if (named.length > 0 && !mentionsShot(sources.files)) {
    throw templates.describeProblem('compile.variants names shots, but no template says the shot: add {{> shot}} to character.hbs (or use {{shot.prompt}})');
  }
  return templates;
}

/**
 * Whether a template other than the shot partial itself prints the shot (`{{> shot}}`, `{{shot.prompt}}`,
 * `{{shot.name}}`); a block that only tests it (`{{#if shot}}`, as the built-in composition does) does not count.
 */
function mentionsShot(files: Record<string, string>): boolean {
  return Object.entries(files).some(([name, text]) => name !== shotPartial && /\{\{~?\s*(>\s*shot\b|(?![#/!>])[^}]*\bshot\.(prompt|name)\b)/.test(text));
}

export function loadPromptTemplates(context: StageContext): Promise<PromptTemplates> {
  return readPromptTemplates({ cwd: context.cwd, templateDirectory: context.config.compile.templateDirectory, variants: context.config.compile.variants });
}

/** The prompts compile would write now, with their fingerprint; pure apart from reading the checkpoint and templates. */
export async function planCompile(context: StageContext): Promise<{ fingerprint: string; prompts: GenerationPrompt[]; records: AnalyzedImage[]; templates: PromptTemplates }> {
  const analysis = await readAnalysisCheckpoint(context.workspace.directory);
  if (!analysis) throw new CheckpointError({ message: noAnalysisMessage });
  const templates = await loadPromptTemplates(context);
  const settings = context.config.compile;
  return {
    fingerprint: fingerprintCompile({ records: analysis.records, templatesFingerprint: templates.fingerprint, settings }),
    prompts: compilePrompts({ records: analysis.records, templates, settings }),
    records: analysis.records,
    templates,
  };
}

/**
 * The compile fingerprint of the analysis checkpoint's records as they are now, read a page at a time; with `write`,
 * the prompts are compiled from the same pages and written as they come (a chunk of records never needs the rest).
 */
function compileFromStore(store: CheckpointStore, options: { templates: PromptTemplates; settings: StageContext['config']['compile']; write: boolean }): { fingerprint: string; prompts: number } {
  if (!store.readState('analyze')) throw new CheckpointError({ message: noAnalysisMessage });
  const fingerprint = createCompileFingerprint({ templatesFingerprint: options.templates.fingerprint, settings: options.settings });
  if (options.write) store.begin(['compile']);
  let prompts = 0;
  for (const records of readAnalyzedImagePages(store)) {
    fingerprint.add(records);
    prompts += records.length * listShots(options.settings.variants).length;
    if (options.write) store.putItems('compile', toPromptItems(compilePrompts({ records, templates: options.templates, settings: options.settings })));
  }
  const digest = fingerprint.digest();
  if (options.write) store.finish('compile', digest);
  return { fingerprint: digest, prompts };
}

/** The fingerprint compile would write now, and the one the checkpoint holds (undefined: none, or being written). */
async function compareCompile(context: StageContext): Promise<{ planned: string; prompts: number; previous: string | undefined; templates: PromptTemplates }> {
  const templates = await loadPromptTemplates(context);
  const found = readCheckpointStore(context.workspace.directory, (store) => ({ ...compileFromStore(store, { templates, settings: context.config.compile, write: false }), previous: store.readState('compile')?.fingerprint }));
  if (!found) throw new CheckpointError({ message: noAnalysisMessage });
  return { planned: found.fingerprint, prompts: found.prompts, previous: found.previous, templates };
}

export const compileStep: StageStep = {
  name: 'compile',
  async isFresh(context) {
    const { planned, previous } = await compareCompile(context);
    if (previous === undefined) return { fresh: false, reason: 'there are no compiled prompts yet' };
    if (previous !== planned) return { fresh: false, reason: 'the analysis records, the templates or the compile settings changed since the prompts were compiled' };
    return { fresh: true, reason: 'unchanged' };
  },
  async run(context, options) {
    const { planned, prompts, previous, templates } = await compareCompile(context);
    const skipped = !options.force && previous === planned;
    if (skipped) {
      context.logger.info(`compile: ${formatCount(prompts, 'prompt')} unchanged`);
    } else {
      writeCheckpointStore(context.workspace.directory, (store) => compileFromStore(store, { templates, settings: context.config.compile, write: true }));
      context.logger.info(`compile: ${formatCount(prompts, 'prompt')} written`);
    }
    return { summary: { status: skipped ? 'skipped' : 'done', total: prompts, succeeded: prompts, failed: 0, cached: 0, requestsSent: 0 }, deadLetter: [] };
  },
};
