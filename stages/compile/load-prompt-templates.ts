import Handlebars from 'handlebars';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChargenError } from '../../pipeline/errors.ts';
import { analysisFieldNames } from '../../schemas/analysis.ts';
import { isEmptyValue } from '../shared/is-empty-value.ts';

/** A template that cannot be parsed or rendered: the message names the template, the line and the field. */
export class TemplateError extends ChargenError {
  readonly template: string;
  readonly line: number | undefined;
  readonly field: string | undefined;

  constructor(options: { template: string; line?: number; column?: number; field?: string; problem: string; cause?: unknown }) {
    const where = options.line === undefined ? '' : ` line ${options.line}${options.column === undefined ? '' : `, column ${options.column + 1}`}`;
    super({ code: 'template-invalid', message: `${options.template}${where}: ${options.problem}`, cause: options.cause });
    this.template = options.template;
    this.line = options.line;
    this.field = options.field;
  }
}

export interface TemplateSources {
  /** Name → text; the main one is `character.hbs`, partials are `partials/<name>.hbs`. */
  files: Record<string, string>;
}

export interface PromptTemplates {
  render(context: Record<string, unknown>): string;
  /** Hash of every template's name and text, so an edit recompiles. */
  fingerprint: string;
}

/** The helpers a prompt writer needs, on an instance of its own (the global Handlebars stays untouched). */
function registerHelpers(handlebars: typeof Handlebars): void {
  handlebars.registerHelper('join', (list: unknown, separator: unknown) => {
    const glue = typeof separator === 'string' ? separator : ', ';
    return Array.isArray(list) ? list.map(String).join(glue) : String(list ?? '');
  });
  handlebars.registerHelper('default', (value: unknown, fallback: unknown) => (isEmptyValue(value) ? fallback : value));
  handlebars.registerHelper('pick', function pick(value: unknown, options: Handlebars.HelperOptions) {
    const choices = options.hash as Record<string, unknown>;
    const key = String(value ?? '');
    return Object.hasOwn(choices, key) ? choices[key] : Object.hasOwn(choices, 'default') ? choices['default'] : value;
  });
}

function explain(error: unknown, template: string): TemplateError {
  if (error instanceof TemplateError) return error;
  const exception = error as { message?: string; lineNumber?: number; column?: number };
  const message = exception.message ?? String(error);
  const missing = /^"([^"]+)" not defined in/.exec(message);
  const line = exception.lineNumber ?? (/line (\d+)/.exec(message)?.[1] ? Number(/line (\d+)/.exec(message)?.[1]) : undefined);
  if (missing?.[1]) {
    return new TemplateError({
      template,
      ...(line !== undefined ? { line } : {}),
      ...(exception.column !== undefined ? { column: exception.column } : {}),
      field: missing[1],
      problem: `"${missing[1]}" is not a field here (record fields: ${analysisFieldNames.join(', ')}; also variant, variantCount, image.aspectRatio, image.imageSize, source.path). Fix the name in the template.`,
      cause: error,
    });
  }
  return new TemplateError({ template, ...(line !== undefined ? { line } : {}), problem: message.split('\n')[0] ?? message, cause: error });
}

/**
 * Compiles every template once, in strict mode (a missing field is an error, not an empty string) and without HTML
 * escaping (prompts are not HTML). Values are data: text from the model is printed, never compiled.
 */
export function compilePromptTemplates(sources: TemplateSources): PromptTemplates {
  const handlebars = Handlebars.create();
  registerHelpers(handlebars);
  const compileOne = (name: string, text: string) => {
    try {
      handlebars.parse(text);
    } catch (error) {
      throw explain(error, name);
    }
    const compiled = handlebars.compile(text, { strict: true, noEscape: true });
    return (context: unknown, options?: Handlebars.RuntimeOptions) => {
      try {
        return compiled(context, options);
      } catch (error) {
        throw explain(error, name);
      }
    };
  };
  const main = sources.files['character.hbs'];
  if (main === undefined) throw new TemplateError({ template: 'character.hbs', problem: 'missing: the template folder needs a character.hbs' });
  for (const [name, text] of Object.entries(sources.files)) {
    const match = /^partials\/(.+)\.hbs$/.exec(name);
    if (match?.[1]) handlebars.registerPartial(match[1], compileOne(name, text) as unknown as Handlebars.Template);
  }
  const render = compileOne('character.hbs', main);
  const hash = createHash('sha256');
  for (const name of Object.keys(sources.files).sort()) hash.update(`${name}\u0000${sources.files[name] ?? ''}\u0000`);
  return {
    render: (context) => render(context).replace(/\n{3,}/g, '\n\n').trim(),
    fingerprint: hash.digest('hex'),
  };
}

/** Reads character.hbs and partials/*.hbs from a folder. */
export async function readTemplateSources(directory: string): Promise<TemplateSources> {
  const files: Record<string, string> = {};
  files['character.hbs'] = await readFile(join(directory, 'character.hbs'), 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new TemplateError({ template: join(directory, 'character.hbs'), problem: `cannot be read (${error.code ?? error.message})`, cause: error });
  });
  const partials = await readdir(join(directory, 'partials')).catch(() => [] as string[]);
  for (const name of partials.filter((entry) => entry.endsWith('.hbs')).sort()) {
    files[`partials/${name}`] = await readFile(join(directory, 'partials', name), 'utf8');
  }
  return { files };
}
