import { opendir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { takenFormatsText } from '../../stages/analyze/inspect-input-image.ts';
import { TemplateError } from '../../stages/compile/load-prompt-templates.ts';
import { ChargenError } from '../../lib/errors.ts';
import { readPromptTemplates } from '../../stages/compile/compile-step.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';

/** The input folder, or a file the config names, cannot be used: found before the workspace is opened or anything sent. */
export class RunInputError extends ChargenError {
  readonly problems: string[];

  constructor(options: { problems: string[] }) {
    super({ code: 'input-invalid', message: options.problems.join('\n') });
    this.problems = options.problems;
  }
}

/** `input folder x` (and where that is, when the name alone does not say). */
function nameFolder(options: { label: string; given: string; path: string }): string {
  return options.given === options.path ? `${options.label} ${options.given}` : `${options.label} ${options.given} (${options.path})`;
}

/** One line on what is wrong with the input folder, or nothing: missing, not a folder, unreadable, empty. */
export async function describeInputFolderProblem(options: { cwd: string; input: string }): Promise<string | undefined> {
  const path = resolve(options.cwd, options.input);
  const name = nameFolder({ label: 'input folder', given: options.input, path });
  const found = await stat(path).then((info) => ({ info }), (error: NodeJS.ErrnoException) => ({ code: error.code ?? String(error) }));
  if ('code' in found) {
    if (found.code === 'ENOENT') return `${name}: no such folder; point --input at the folder of your reference images`;
    return `${name}: cannot be read (${found.code}); check that it is a folder you may read`;
  }
  if (!found.info.isDirectory()) return `${name}: a file, not a folder; point --input at the folder that holds the images`;
  // One entry is enough to know it is not empty; a folder of a million images is not listed here.
  const first = await opendir(path).then(
    async (directory) => {
      const entry = await directory.read();
      await directory.close();
      return { empty: entry === null };
    },
    (error: NodeJS.ErrnoException) => ({ code: error.code ?? String(error) }),
  );
  if ('code' in first) return `${name}: cannot be read (${first.code}); check that you may read it`;
  if (first.empty) return `${name}: the folder is empty; put your reference images in it (${takenFormatsText}; one character per image)`;
  return undefined;
}

/** One line on what is wrong with `compile.templateDirectory`, or nothing: missing, not a folder, no character.hbs. */
export async function describeTemplateFolderProblem(options: { cwd: string; templateDirectory: string }): Promise<string | undefined> {
  const path = resolve(options.cwd, options.templateDirectory);
  const name = nameFolder({ label: 'compile.templateDirectory', given: options.templateDirectory, path });
  const found = await stat(path).then((info) => ({ info }), (error: NodeJS.ErrnoException) => ({ code: error.code ?? String(error) }));
  if ('code' in found) {
    if (found.code === 'ENOENT') return `${name}: no such folder (a relative path in the config file is read from the file's folder); fix the path, or leave it out for the built-in templates`;
    return `${name}: cannot be read (${found.code})`;
  }
  if (!found.info.isDirectory()) return `${name}: a file, not a folder; give the folder that holds character.hbs`;
  const main = await stat(join(path, 'character.hbs')).then((info) => info.isFile(), () => false);
  if (!main) return `${name}: has no character.hbs, the main template (partials go in partials/); copy templates/character.hbs from chargen to start from`;
  return undefined;
}

/**
 * What `chargen run` checks before it opens the workspace, asks the API or spends anything (a dry run too): the
 * input folder can be read and holds something, and the templates (the config's or the built-in ones) are there and
 * parse. Every problem is reported at once.
 */
export async function checkRunInputs(options: { cwd: string; config: ChargenConfig }): Promise<void> {
  const problems: string[] = [];
  const input = await describeInputFolderProblem({ cwd: options.cwd, input: options.config.input });
  if (input) problems.push(input);
  const { templateDirectory } = options.config.compile;
  const templates = templateDirectory === undefined ? undefined : await describeTemplateFolderProblem({ cwd: options.cwd, templateDirectory });
  if (templates) problems.push(templates);
  // A syntax error found now costs nothing; found by the compile stage, it would come after the analysis was paid for.
  const syntax = templates ? undefined : await readPromptTemplates({ cwd: options.cwd, templateDirectory, variants: options.config.compile.variants }).then(() => undefined, (error: unknown) => {
    if (error instanceof TemplateError) return error;
    throw error;
  });
  if (syntax && problems.length === 0) throw syntax;
  if (syntax) problems.push(syntax.message);
  if (problems.length > 0) throw new RunInputError({ problems });
}
