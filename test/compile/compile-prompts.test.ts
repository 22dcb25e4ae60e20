import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePrompts } from '../../stages/compile/core/compile-prompts.ts';
import { compileSettingsSchema } from '../../schemas/compile-settings.ts';
import { compilePromptTemplates, readTemplateSources, TemplateError } from '../../stages/compile/load-prompt-templates.ts';
import { createSeededRandom } from '../support/gemini-fixture.ts';
import { createAnalyzedImages } from '../support/sample-records.ts';

const builtInTemplates = compilePromptTemplates(await readTemplateSources(join(import.meta.dirname, '..', '..', 'templates')));
const defaultSettings = compileSettingsSchema.parse({});

/** The message of the error `run` throws (or rejects with). */
async function messageOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}

describe('compilePrompts', () => {
  it('is deterministic: any order of the same records gives the byte-identical prompts file', () => {
    const records = createAnalyzedImages(40);
    const expected = JSON.stringify(compilePrompts({ records, templates: builtInTemplates, settings: defaultSettings }));
    const random = createSeededRandom(7);
    for (let trial = 0; trial < 25; trial += 1) {
      expect(JSON.stringify(compilePrompts({ records: shuffle(records, random), templates: builtInTemplates, settings: defaultSettings }))).toBe(expected);
    }
  });

  it('renders the built-in character sheet with the record, the defaults and the image settings', () => {
    const [analyzed] = createAnalyzedImages(1);
    const [prompt] = compilePrompts({ records: [analyzed!], templates: builtInTemplates, settings: defaultSettings });
    expect(prompt?.prompt).toContain(`Character sheet of ${analyzed!.record.archetype}`);
    expect(prompt?.prompt).toContain(analyzed!.record.colour_palette.join(', '));
    expect(prompt?.prompt).toContain('9:16 frame');
    expect(prompt).toMatchObject({ model: 'gemini-3-pro-image', imageConfig: { aspectRatio: '9:16', imageSize: '2K' }, variant: 1, useReferenceImage: true });
    expect(prompt?.key).toMatch(/^[0-9a-f]{64}$/);
  });

  it('prints &, quotes and < as they are: no HTML entities', () => {
    const [analyzed] = createAnalyzedImages(1);
    const hostile = `Tom & "Jerry" <b>O'Brien</b> \`tick\` =`;
    const record = { ...analyzed!.record, archetype: hostile, clothing: hostile, visual_traits: [hostile] };
    const [prompt] = compilePrompts({ records: [{ ...analyzed!, record }], templates: builtInTemplates, settings: defaultSettings });
    expect(prompt?.prompt).toContain(hostile);
    expect(prompt?.prompt).not.toMatch(/&amp;|&lt;|&gt;|&quot;|&#x27;|&#39;|&#x60;|&#x3D;/);
  });

  it('treats text from the model as data: template syntax in a record is printed, never evaluated', () => {
    const [analyzed] = createAnalyzedImages(1);
    const attempts = ['{{> subject}}', '{{#each this}}{{@key}}{{/each}}', '{{constructor.constructor "return process"}}', '{{{lighting}}}', '{{lookup . "__proto__"}}'];
    const record = { ...analyzed!.record, archetype: attempts.join(' '), notable_features: attempts };
    const [prompt] = compilePrompts({ records: [{ ...analyzed!, record }], templates: builtInTemplates, settings: defaultSettings });
    for (const attempt of attempts) expect(prompt?.prompt).toContain(attempt);
    expect(prompt?.prompt.match(/Character sheet of/g)).toHaveLength(1);
  });

  it('makes N distinct requests for N variants, and one shared key for the same bytes under two names', () => {
    const [analyzed] = createAnalyzedImages(1);
    const twin = { ...analyzed!, sourcePath: 'twin.png' };
    const settings = compileSettingsSchema.parse({ variants: 3 });
    const prompts = compilePrompts({ records: [analyzed!, twin], templates: builtInTemplates, settings });
    expect(prompts).toHaveLength(6);
    expect(new Set(prompts.map((prompt) => prompt.key)).size).toBe(3);
    expect(prompts.find((prompt) => prompt.variant === 2)?.prompt).toContain('variation 2 of 3');
  });

  it('applies defaults, then overrides, then when-rules, in order', () => {
    const [analyzed] = createAnalyzedImages(1);
    const record = { ...analyzed!.record, background: '', species: 'elf', art_style: 'sketch' };
    const settings = compileSettingsSchema.parse({
      defaults: { background: 'misty forest' },
      overrides: { art_style: 'photorealistic' },
      when: [{ field: 'species', equals: 'elf', set: { lighting: 'dappled moonlight' } }, { field: 'art_style', equals: 'sketch', set: { mood: 'never applied' } }],
    });
    const [prompt] = compilePrompts({ records: [{ ...analyzed!, record }], templates: builtInTemplates, settings });
    expect(prompt?.prompt).toContain('Background: misty forest');
    expect(prompt?.prompt).toContain('Art style: photorealistic');
    expect(prompt?.prompt).toContain('Lighting: dappled moonlight');
    expect(prompt?.prompt).not.toContain('never applied');
  });
});

describe('compile settings and templates: errors that say where', () => {
  it('reports every unknown field in the rules at once, and a lowercase image size', () => {
    const parsed = compileSettingsSchema.safeParse({
      defaults: { speces: 'elf' },
      overrides: { artstyle: 'x' },
      when: [{ field: 'moood', equals: 'calm', set: { backgrund: 'y' } }],
      imageConfig: { imageSize: '2k' },
    });
    expect(parsed.success).toBe(false);
    const messages = parsed.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) ?? [];
    expect(messages.some((message) => message.startsWith('defaults.speces: unknown field "speces"'))).toBe(true);
    expect(messages.some((message) => message.startsWith('overrides.artstyle'))).toBe(true);
    expect(messages.some((message) => message.startsWith('when.0.field'))).toBe(true);
    expect(messages.some((message) => message.startsWith('when.0.set.backgrund'))).toBe(true);
    expect(messages.some((message) => message.startsWith('imageConfig.imageSize'))).toBe(true);
  });

  it('names the template, line and field of a missing field, in the main template and in a partial', () => {
    const [analyzed] = createAnalyzedImages(1);
    const inMain = compilePromptTemplates({ files: { 'character.hbs': 'A {{species}}\nwith {{speces}} eyes' } });
    const mainError = (() => {
      try {
        compilePrompts({ records: [analyzed!], templates: inMain, settings: defaultSettings });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(mainError).toBeInstanceOf(TemplateError);
    expect((mainError as TemplateError).message).toMatch(/^character\.hbs line 2, column 8: "speces" is not a field here/);
    expect((mainError as TemplateError).field).toBe('speces');

    const inPartial = compilePromptTemplates({ files: { 'character.hbs': 'Intro\n{{> looks}}', 'partials/looks.hbs': 'Eyes:\n\n{{eye_colour}}' } });
    expect(() => compilePrompts({ records: [analyzed!], templates: inPartial, settings: defaultSettings })).toThrow(/^partials\/looks\.hbs line 3, column 3: "eye_colour"/);
  });

  it("shows a syntax error whole: the template's path, line, column, the parser's message and the line itself", async () => {
    const folder = await mkdtemp(join(tmpdir(), 'chargen-templates-'));
    try {
      await mkdir(join(folder, 'partials'));
      await writeFile(join(folder, 'character.hbs'), 'A portrait.\n{{#if species}}\nno end');
      const unclosed = messageOf(async () => compilePromptTemplates(await readTemplateSources(folder)));
      expect(await unclosed).toBe(
        [
          `${join(folder, 'character.hbs')} line 3, column 7: Parse error: Expecting 'OPEN_INVERSE_CHAIN', 'INVERSE', 'OPEN_ENDBLOCK', got 'EOF'`,
          '  3 | no end',
          '    |       ^',
        ].join('\n'),
      );
      await writeFile(join(folder, 'character.hbs'), 'Intro\n{{> looks}}');
      await writeFile(join(folder, 'partials', 'looks.hbs'), 'Eyes:\n  {{eye_colour bar=}}');
      expect(await messageOf(async () => compilePromptTemplates(await readTemplateSources(folder)))).toMatch(
        new RegExp(`^${escapeRegExp(join(folder, 'partials', 'looks.hbs'))} line 2, column 20: Parse error: Expecting .*, got 'CLOSE'\n  2 \\|   \\{\\{eye_colour bar=\\}\\}\n    \\| {20}\\^$`),
      );
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
    // Errors Handlebars finds after parsing (a block closed by another name) keep their own words and place.
    expect(await messageOf(async () => compilePromptTemplates({ files: { 'character.hbs': 'x\n  {{#each a}}{{/if}}' } }))).toMatch(/^character\.hbs line 2, column 6: each doesn't match if\n  2 \|/);
  });

  it('names the template and line of a syntax error when the templates are loaded', () => {
    expect(() => compilePromptTemplates({ files: { 'character.hbs': 'ok\n{{#if species}}\nno end' } })).toThrow(/^character\.hbs line 3, column 7: Parse error: /);
    expect(() => compilePromptTemplates({ files: { 'partials/x.hbs': 'x' } })).toThrow('needs a character.hbs');
  });
});
