import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePrompts } from '../../stages/compile/core/compile-prompts.ts';
import { attachSheet, compileSheetPrompts, sheetShotName } from '../../stages/compile/core/compile-sheets.ts';
import { compileSettingsSchema } from '../../schemas/compile-settings.ts';
import { listPromptReferences, type PromptReference } from '../../schemas/generation-prompt.ts';
import { compilePromptTemplates, readTemplateSources } from '../../stages/compile/load-prompt-templates.ts';
import { createAnalyzedImages } from '../support/sample-records.ts';

const sources = await readTemplateSources(join(import.meta.dirname, '..', '..', 'templates'));
const templates = compilePromptTemplates(sources);
const settings = compileSettingsSchema.parse({ model: 'gemini-3-pro-image', variants: ['full figure, front', 'action pose'] });
const records = createAnalyzedImages(2);
const hex = (digit: string) => digit.repeat(64);
const sheet: PromptReference = { path: 'hero-turnaround-sheet.jpg', sha256: hex('a'), mimeType: 'image/jpeg', folder: 'output' };

describe('turnaround sheets, compiled', () => {
  it('one sheet prompt per character: from sheet.hbs, a wide frame, keys of their own', () => {
    const sheets = compileSheetPrompts({ records, templates, settings });
    const shots = compilePrompts({ records, templates, settings });
    expect(sheets).toHaveLength(2);
    expect(sheets[0]).toMatchObject({ shot: sheetShotName, variant: 1, imageConfig: { aspectRatio: '16:9' } });
    expect(sheets[0]?.prompt).toContain('Turnaround sheet');
    expect(sheets[0]?.prompt).toContain('from the front, from the side (in profile) and from the back');
    const keys = new Set([...sheets, ...shots].map((prompt) => prompt.key));
    expect(keys.size).toBe(sheets.length + shots.length);
    expect(sheets[0]?.seed).toBeDefined();
    expect(sheets[0]?.seed?.value).not.toBe(shots[0]?.seed?.value);
  });

  it('sheet.hbs is outside the templates fingerprint: sheets off, the prompts and their checkpoint are what they were', () => {
    const { ['sheet.hbs']: _sheet, ...withoutSheet } = sources.files;
    expect(sources.files['sheet.hbs']).toBeDefined();
    expect(compilePromptTemplates({ files: withoutSheet }).fingerprint).toBe(templates.fingerprint);
  });

  it('a shot carries the sheet first, the rest trimmed to the model limit, and its key follows the sheet bytes', () => {
    const [shot] = compilePrompts({ records, templates, settings });
    if (!shot) throw new Error('no prompt');
    const references = Array.from({ length: 14 }, (_unused, index): PromptReference => ({ path: `hero/${index}.png`, sha256: hex((index % 10).toString()), mimeType: 'image/png' }));
    const full = { ...shot, references };
    const carried = attachSheet(full, sheet);
    const carriedReferences = listPromptReferences(carried);
    expect(carriedReferences).toHaveLength(14);
    expect(carriedReferences[0]).toEqual(sheet);
    expect(carriedReferences.slice(1)).toEqual(references.slice(0, 13));
    expect(carried.leftOutReferences).toEqual(['hero/13.png']);
    expect(carried.prompt).toContain("turnaround sheet (front, side and back)");
    expect(carried.key).not.toBe(full.key);
    expect(attachSheet(full, sheet).key).toBe(carried.key);
    expect(attachSheet(full, { ...sheet, sha256: hex('b') }).key).not.toBe(carried.key);
  });
});
