import Handlebars from 'handlebars';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChargenError } from '../../lib/errors.ts';
import { analysisFieldNames } from '../../schemas/analysis.ts';
import { isEmptyValue } from './core/is-empty-value.ts';

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
  /** The folder they were read from, so that an error names the file a user can open. */
  directory?: string;
}

export interface PromptTemplates {
  render(context: Record<string, unknown>): string;
  /** The turnaround sheet's prompt (sheet.hbs, with the same partials), when the templates have one. */
  renderSheet?(context: Record<string, unknown>): string;
  /** Hash of every template's name and text, so an edit recompiles. */
  fingerprint: string;
  /** A problem of the prompts these templates give (named shots that all read the same), as an error naming character.hbs. */
  describeProblem(problem: string): TemplateError;
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
      problem: `"${missing[1]}" is not a field here (record fields: ${analysisFieldNames.join(', ')}; also variant, variantCount, shot.name, shot.prompt (shot is null for a numbered variant), image.aspectRatio, image.imageSize, source.path). Fix the name in the template.`,
      cause: error,
    });
  }
  return new TemplateError({ template, ...(line !== undefined ? { line } : {}), problem: message.split('\n')[0] ?? message, cause: error });
}

/** Where the parser stopped, which Handlebars puts in a parse error's text only: read from the parser's lexer. */
function readParserLocation(handlebars: typeof Handlebars): { line: number; column: number } | undefined {
  // The parser is one object shared by every instance and parses synchronously, so right after a failed parse its
  // lexer still holds the token it stopped at (1-based line, 0-based column). Not in the type definitions.
  const parser = (handlebars as unknown as { Parser?: { lexer?: { yylloc?: { first_line?: unknown; first_column?: unknown } } } }).Parser;
  const location = parser?.lexer?.yylloc;
  return typeof location?.first_line === 'number' && typeof location.first_column === 'number' ? { line: location.first_line, column: location.first_column } : undefined;
}

/** The source line an error is on, with a caret under the column, as an editor would show it. */
function pointAt(options: { text: string; line: number; column: number | undefined }): string {
  const source = options.text.split(/\r?\n/)[options.line - 1];
  if (source === undefined) return '';
  const gutter = String(options.line);
  const caret = options.column === undefined ? [] : [`  ${' '.repeat(gutter.length)} | ${' '.repeat(options.column)}^`];
  return ['', `  ${gutter} | ${source}`, ...caret].join('\n');
}

/**
 * A template Handlebars cannot parse, shown whole: the file, line and column, the parser's message and the line.
 * The parser's own excerpt runs the lines together, so the real line is shown in its place.
 */
function explainSyntaxError(options: { error: unknown; template: string; text: string; handlebars: typeof Handlebars }): TemplateError {
  const exception = options.error as { message?: string; lineNumber?: number; column?: number };
  const message = exception.message ?? String(options.error);
  const parse = /^(Parse|Lexical) error on line (\d+)[:.]/.exec(message);
  let line = exception.lineNumber;
  let column = exception.column;
  let problem = message.replace(/ - \d+:\d+$/, '');
  if (parse) {
    line = Number(parse[2]);
    const location = readParserLocation(options.handlebars);
    column = location?.line === line ? location.column : undefined;
    const last = message.split('\n').at(-1) ?? '';
    problem = parse[1] === 'Parse' ? `Parse error: ${last}` : 'Lexical error: text the parser does not recognise';
  }
  return new TemplateError({
    template: options.template,
    ...(line !== undefined ? { line } : {}),
    ...(column !== undefined ? { column } : {}),
    problem: problem + (line === undefined ? '' : pointAt({ text: options.text, line, column })),
    cause: options.error,
  });
}

/**
 * Compiles every template once, in strict mode (a missing field is an error, not an empty string) and without HTML
 * escaping (prompts are not HTML). Values are data: text from the model is printed, never compiled.
 */
export function compilePromptTemplates(sources: TemplateSources): PromptTemplates {
  const handlebars = Handlebars.create();
  registerHelpers(handlebars);
  const compileOne = (name: string, text: string) => {
    const template = sources.directory === undefined ? name : join(sources.directory, name);
    try {
      handlebars.parse(text);
    } catch (error) {
      throw explainSyntaxError({ error, template, text, handlebars });
    }
    const compiled = handlebars.compile(text, { strict: true, noEscape: true });
    return (context: unknown, options?: Handlebars.RuntimeOptions) => {
      try {
        return compiled(context, options);
      } catch (error) {
        throw explain(error, template);
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
  const sheet = sources.files[sheetTemplate] === undefined ? undefined : compileOne(sheetTemplate, sources.files[sheetTemplate]);
  const hash = createHash('sha256');
  // sheet.hbs is outside the fingerprint: a sheet's prompt is in its request's key, and its bytes in the shots' keys.
  for (const name of Object.keys(sources.files).sort()) if (name !== sheetTemplate) hash.update(`${name}\u0000${sources.files[name] ?? ''}\u0000`);
  const tidy = (text: string) => text.replace(/\n{3,}/g, '\n\n').trim();
  return {
    render: (context) => tidy(render(context)),
    ...(sheet ? { renderSheet: (context: Record<string, unknown>) => tidy(sheet(context)) } : {}),
    fingerprint: hash.digest('hex'),
    describeProblem: (problem) => new TemplateError({ template: sources.directory === undefined ? 'character.hbs' : join(sources.directory, 'character.hbs'), problem }),
  };
}

/** The turnaround sheet's template (synthesize.sheet), beside character.hbs. */
export const sheetTemplate = 'sheet.hbs';

/** Reads character.hbs, sheet.hbs (when there) and partials/*.hbs from a folder. */
export async function readTemplateSources(directory: string): Promise<TemplateSources> {
  const files: Record<string, string> = {};
  files['character.hbs'] = await readFile(join(directory, 'character.hbs'), 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new TemplateError({ template: join(directory, 'character.hbs'), problem: `cannot be read (${error.code ?? error.message})`, cause: error });
  });
  const sheet = await readFile(join(directory, sheetTemplate), 'utf8').catch(() => undefined);
  if (sheet !== undefined) files[sheetTemplate] = sheet;
  const partials = await readdir(join(directory, 'partials')).catch(() => [] as string[]);
  for (const name of partials.filter((entry) => entry.endsWith('.hbs')).sort()) {
    files[`partials/${name}`] = await readFile(join(directory, 'partials', name), 'utf8');
  }
  return { files, directory };
}
