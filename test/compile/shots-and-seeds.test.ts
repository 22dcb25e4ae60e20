import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePrompts } from '../../stages/compile/core/compile-prompts.ts';
import { identifyCharacter } from '../../stages/compile/core/derive-seed.ts';
import { compileSettingsSchema } from '../../schemas/compile-settings.ts';
import { synthesizeSettingsSchema } from '../../schemas/synthesize-settings.ts';
import { compilePromptTemplates, readTemplateSources, TemplateError } from '../../stages/compile/load-prompt-templates.ts';
import { buildImageRequest, computeImageRequestKey, toUnseededPrompt } from '../../stages/synthesize/core/build-image-request.ts';
import { formatBaseName, planOutputNames, toOutputEntry } from '../../stages/synthesize/core/plan-output-names.ts';
import { fingerprintSynthesize } from '../../stages/synthesize/core/fingerprint-synthesize.ts';
import { formatZodIssues } from '../../schemas/format-zod-issues.ts';
import { createAnalyzedImages } from '../support/sample-records.ts';

const templateSources = await readTemplateSources(join(import.meta.dirname, '..', '..', 'templates'));
const templates = compilePromptTemplates(templateSources);
const synthesizeSettings = synthesizeSettingsSchema.parse({});
const shots = ['full figure, front', { name: 'three-quarter portrait', aspectRatio: '3:4' }, { name: 'Action pose!', prompt: 'leaping into a sword strike, dynamic angle' }];

const compile = (settings: Record<string, unknown>, count = 2) => compilePrompts({ records: createAnalyzedImages(count), templates, settings: compileSettingsSchema.parse(settings) });

describe('named shots', () => {
  it('give one prompt per character and shot, each with its own line, frame and file name', () => {
    const prompts = compile({ variants: shots });
    expect(prompts).toHaveLength(6);
    const [front, portrait, action] = prompts;
    expect(front).toMatchObject({ variant: 1, shot: 'full figure, front', imageConfig: { aspectRatio: '9:16' } });
    expect(front?.prompt).toContain('Shot: full figure, front,');
    expect(portrait).toMatchObject({ variant: 2, shot: 'three-quarter portrait', imageConfig: { aspectRatio: '3:4', imageSize: '2K' } });
    expect(portrait?.prompt).toContain('3:4 frame');
    expect(action?.prompt).toContain('Shot: leaping into a sword strike, dynamic angle,');
    expect(action?.prompt).not.toContain('variation');
    expect(new Set(prompts.map((prompt) => prompt.key)).size).toBe(6);
    expect(prompts.slice(0, 3).map((prompt) => formatBaseName(toOutputEntry(prompt)))).toEqual([
      'hero-00000-full-figure-front', 'hero-00000-three-quarter-portrait', 'hero-00000-Action-pose',
    ]);
  });

  it('are known by their name: reordering the list or adding a shot changes no other prompt or seed', () => {
    const before = compile({ variants: shots });
    const after = compile({ variants: ['back view', ...[...shots].reverse()] });
    for (const prompt of before) {
      const same = after.find((other) => other.sourceImage.path === prompt.sourceImage.path && other.shot === prompt.shot);
      expect(same?.key).toBe(prompt.key);
      expect(same?.seed).toEqual(prompt.seed);
    }
  });

  it('keep their output names when the list is reordered; names that clean to the same file name get a suffix', () => {
    const prompts = compile({ variants: shots }, 1);
    const names = planOutputNames({ entries: prompts.map(toOutputEntry), assigned: new Map(), existingBaseNames: ['hero-00000-action-pose'] });
    // A file the user put there under the shot's name (case aside) is never taken over.
    expect(names.get('hero-00000.png#shot:Action pose!')).toMatch(/^hero-00000-Action-pose-[0-9a-f]{8}$/);
    const reordered = compile({ variants: [...shots].reverse() }, 1);
    expect(planOutputNames({ entries: reordered.map(toOutputEntry), assigned: names, existingBaseNames: [] })).toEqual(names);
  });

  it('report every mistake in the config at once, each with its path', () => {
    const parsed = compileSettingsSchema.safeParse({
      model: 'gemini-3-pro-image',
      variants: ['front', { name: 'Front!' }, { name: 'wide', aspectRatio: '8:1' }, { name: 'x', seed: -1 }, ''],
    });
    expect(parsed.success).toBe(false);
    const message = formatZodIssues(parsed.error?.issues ?? []);
    expect(message).toContain('variants.1.name: shot "Front!" would have the same file name as shot 1 ("front")');
    expect(message).toContain('variants.2.aspectRatio: gemini-3-pro-image takes aspectRatio');
    expect(message).toContain('variants.3.seed:');
    expect(message).toContain('variants.4:');
  });

  it('stop at compile, naming character.hbs, when the templates never say the shot', () => {
    const sources = { ...templateSources, files: { ...templateSources.files, 'character.hbs': '{{> subject}}\n\n{{> style}}' } };
    const run = () => compilePrompts({ records: createAnalyzedImages(1), templates: compilePromptTemplates(sources), settings: compileSettingsSchema.parse({ variants: shots }) });
    expect(run).toThrow(TemplateError);
    expect(run).toThrow(/character\.hbs.*\{\{> shot\}\}/s);
  });
});

describe('seeds', () => {
  it('are derived from the character and the shot: the same on every compile, distinct between shots and characters', () => {
    const first = compile({ variants: shots }, 3);
    const again = compile({ variants: shots }, 3);
    expect(again.map((prompt) => prompt.seed)).toEqual(first.map((prompt) => prompt.seed));
    expect(new Set(first.map((prompt) => prompt.seed?.value)).size).toBe(9);
    for (const prompt of first) expect(prompt.seed).toMatchObject({ source: 'auto', value: expect.any(Number) });
    expect(first.every((prompt) => Number.isInteger(prompt.seed?.value) && (prompt.seed?.value ?? -1) >= 0 && (prompt.seed?.value ?? 2 ** 31) < 2 ** 31)).toBe(true);
    const numbered = compile({ variants: 3 });
    expect(new Set(numbered.map((prompt) => prompt.seed?.value)).size).toBe(6);
  });

  it('follow the bytes, not the file name: a renamed character keeps its seed', () => {
    const [analyzed] = createAnalyzedImages(1);
    const settings = compileSettingsSchema.parse({ variants: shots });
    const original = compilePrompts({ records: [analyzed!], templates, settings });
    const renamed = compilePrompts({ records: [{ ...analyzed!, sourcePath: 'renamed/hero.png' }], templates, settings });
    expect(renamed.map((prompt) => prompt.seed)).toEqual(original.map((prompt) => prompt.seed));
  });

  it("of a folder character follow the set of its references' bytes: not their order, nor the folder's name", () => {
    const [first, second, third] = createAnalyzedImages(3).map((image) => ({ path: `knight/${image.sourcePath}`, sha256: image.sha256, mimeType: image.mimeType, width: 10, height: 10 }));
    const [analyzed] = createAnalyzedImages(1);
    const folder = { ...analyzed!, sourcePath: 'knight/', references: [first!, second!], otherReferences: [third!] };
    expect(identifyCharacter({ sha256: analyzed!.sha256 })).toBe(analyzed!.sha256);
    expect(identifyCharacter(folder)).not.toBe(analyzed!.sha256);
    expect(identifyCharacter({ ...folder, references: [third!, first!], otherReferences: [second!] })).toBe(identifyCharacter(folder));
    expect(identifyCharacter({ ...folder, otherReferences: undefined })).not.toBe(identifyCharacter(folder));
    const settings = compileSettingsSchema.parse({ variants: shots });
    const seeds = (record: typeof folder) => compilePrompts({ records: [record], templates, settings }).map((prompt) => prompt.seed);
    expect(seeds({ ...folder, sourcePath: 'renamed-knight/' })).toEqual(seeds(folder));
  });

  it('go into generationConfig.seed; compile.seed changes them all, a shot can pin its own, off sends none', () => {
    const [auto] = compile({ variants: shots }, 1);
    expect(buildImageRequest({ prompt: auto!, settings: synthesizeSettings, referenceFileUris: ['files/x'] }).request['generationConfig']).toMatchObject({ seed: auto?.seed?.value });
    const [based] = compile({ variants: shots, seed: 7 }, 1);
    expect(based?.seed).toMatchObject({ source: 'config' });
    expect(based?.seed?.value).not.toBe(auto?.seed?.value);
    const [pinned] = compile({ variants: [{ name: 'full figure, front', seed: 1234 }] }, 1);
    expect(pinned?.seed).toEqual({ value: 1234, source: 'shot' });
    const [off] = compile({ variants: shots, seed: 'off' }, 1);
    expect(off?.seed).toBeUndefined();
    expect(JSON.stringify(buildImageRequest({ prompt: off!, settings: synthesizeSettings }).request)).not.toContain('seed');
  });

  it('change the synthesize fingerprint (a changed compile.seed is not "unchanged" in status), though not the prompt keys', () => {
    const context = { settings: synthesizeSettings, outputDirectory: '/out', backend: 'emulator', codeVersion: 'test' };
    const auto = compile({ variants: shots });
    const based = compile({ variants: shots, seed: 5 });
    expect(based.map((prompt) => prompt.key)).toEqual(auto.map((prompt) => prompt.key));
    expect(fingerprintSynthesize({ ...context, prompts: based })).not.toBe(fingerprintSynthesize({ ...context, prompts: auto }));
  });

  it("leave a numbered variant's prompt key as chargen gave it before seeds, and its unseeded request key too", () => {
    // Computed with chargen at f16bb22 (before shots and seeds) for the same two sample records, `variants: 2`.
    const before = [
      ['da0733a87d5e4c16031df9402bc76e750dd2f931b1d77e378c0c80b355b841b4', '352e6906c029e7559dcf72505b8fbf74613b17698747e21f393ad53713332120'],
      ['cdfac1b0a70d44696d142e58741ee643b782eab4c2e0f336de03f01af593c015', '61afa422f88890b6e173f640ba531854e65a94767b6f6e9387b8fef9998ec672'],
      ['764b98a2aaa3ad97956a4efedc1b5b9c719eaad159f92f3e9161bd3a8e65bfa3', '7d7ae31bf85d500feb5dada6f19025204c34c21f8da94f1a4539bb0f9021c71c'],
      ['b974cd1cddb9b2bb3499b70f00b4c2c19ef5509de0ef54f93efc0b71ce7f500f', 'e630299d2f4101276e519d481fd49f0684f36cbdbf6ddcfaa39888f64848b50c'],
    ];
    const prompts = compile({ variants: 2 });
    expect(prompts.map((prompt) => [prompt.key, computeImageRequestKey({ prompt: toUnseededPrompt(prompt)!, settings: synthesizeSettings })])).toEqual(before);
    expect(compile({ variants: 2, seed: 'off' }).map((prompt) => computeImageRequestKey({ prompt, settings: synthesizeSettings }))).toEqual(before.map(([, key]) => key));
    // The seeded requests are new ones; only a seed chargen chose itself has an unseeded stand-in.
    expect(prompts.map((prompt) => computeImageRequestKey({ prompt, settings: synthesizeSettings }))).not.toContain(before[0]?.[1]);
    expect(toUnseededPrompt(compile({ variants: 2, seed: 3 })[0]!)).toBeUndefined();
  });
});
