import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compileSettingsSchema } from '../../schemas/compile-settings.ts';
import { analyzeSettingsSchema } from '../../schemas/analyze-settings.ts';
import { findAnalysisImageLimit, findCharacterName, groupIntoCharacters } from '../../stages/analyze/core/plan-characters.ts';
import { planPromptReferences } from '../../stages/compile/core/plan-prompt-references.ts';
import { createAnalyzedImages } from '../support/sample-records.ts';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const image = (relativePath: string, size: { width: number; height: number; sizeBytes?: number }, bytes = relativePath) => ({
  relativePath,
  sha256: sha(bytes),
  width: size.width,
  height: size.height,
  sizeBytes: size.sizeBytes ?? 100,
});

describe('characters: which images are one character, in which order', () => {
  it('a folder is a character of the images directly in it; a folder inside it is another; a loose image is its own', () => {
    expect(findCharacterName('knight.png')).toBe('knight.png');
    expect(findCharacterName('knight/front.png')).toBe('knight/');
    expect(findCharacterName('heroes/knight/front.png')).toBe('heroes/knight/');
    const characters = groupIntoCharacters([
      image('heroes/knight/front.png', { width: 10, height: 10 }),
      image('heroes/portrait.png', { width: 10, height: 10 }),
      image('bard.png', { width: 10, height: 10 }),
    ]);
    expect(characters.map((character) => [character.name, character.references.map((reference) => reference.relativePath)])).toEqual([
      ['bard.png', ['bard.png']],
      ['heroes/', ['heroes/portrait.png']],
      ['heroes/knight/', ['heroes/knight/front.png']],
    ]);
  });

  it('orders references by content alone (pixels, bytes, sha256), so a rename changes nothing; a copy counts once', () => {
    const images = [
      image('knight/a.png', { width: 10, height: 10 }),
      image('knight/b.png', { width: 40, height: 40 }),
      image('knight/c.png', { width: 40, height: 40, sizeBytes: 900 }),
      image('knight/copy of b.png', { width: 40, height: 40 }, 'knight/b.png'),
    ];
    const [character] = groupIntoCharacters(images);
    expect(character?.references.map((reference) => reference.relativePath)).toEqual(['knight/c.png', 'knight/b.png', 'knight/a.png']);
    expect(character?.duplicates.map((duplicate) => [duplicate.image.relativePath, duplicate.sameAs.relativePath])).toEqual([['knight/copy of b.png', 'knight/b.png']]);
    const renamed = groupIntoCharacters(images.map((entry) => ({ ...entry, relativePath: entry.relativePath.replace('a.png', 'z.png') })));
    expect(renamed[0]?.references.map((reference) => reference.sha256)).toEqual(character?.references.map((reference) => reference.sha256));
  });

  it('an analysis carries analyze.maxReferences images, and no more than fit its model at 1,120 tokens an image', () => {
    expect(findAnalysisImageLimit(analyzeSettingsSchema.parse({}))).toBe(14);
    expect(findAnalysisImageLimit(analyzeSettingsSchema.parse({ maxReferences: 3 }))).toBe(3);
    // 1,048,576 input tokens hold 921 images after the text's share; the setting stops at 900.
    expect(findAnalysisImageLimit(analyzeSettingsSchema.parse({ maxReferences: 900 }))).toBe(900);
  });

  it('an image request carries up to the image model\'s maxReferenceImages, and names the rest', () => {
    const [analyzed] = createAnalyzedImages(1);
    const references = Array.from({ length: 16 }, (_unused, index) => ({ path: `knight/${index}.png`, sha256: sha(`knight-${index}`), mimeType: 'image/png', width: 10, height: 10 }));
    const record = { ...analyzed!, sourcePath: 'knight/', references: references.slice(0, 14), otherReferences: references.slice(14) };
    const model = compileSettingsSchema.parse({}).model;
    const planned = planPromptReferences({ analyzed: record, model });
    expect(planned.references).toHaveLength(14);
    expect(planned.leftOut).toEqual(['knight/14.png', 'knight/15.png']);
    expect(planPromptReferences({ analyzed: { ...record, references: references.slice(0, 3), otherReferences: undefined }, model: 'gemini-2.5-flash-image' }).references).toHaveLength(3);
    // A record from before characters: its one image.
    expect(planPromptReferences({ analyzed: analyzed!, model }).references).toEqual([{ path: analyzed!.sourcePath, sha256: analyzed!.sha256, mimeType: analyzed!.mimeType }]);
  });
});
