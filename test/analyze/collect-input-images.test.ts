// Every file the scan sees is taken or reported by name: nothing in the input folder vanishes without a word.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../lib/logger.ts';
import { collectInputImages } from '../../stages/analyze/analyze-images.ts';
import { analyzeSettingsSchema } from '../../schemas/analyze-settings.ts';
import { takenFormatsText } from '../../stages/analyze/inspect-input-image.ts';
import { createSampleJpeg, createSamplePng } from '../support/sample-images.ts';

const gif = Buffer.from([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3b]);
const bmp = Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]);
const tiff = Buffer.concat([Buffer.from([0x49, 0x49, 0x2a, 0x00]), Buffer.alloc(60)]);

describe('collectInputImages: what the scan sees', () => {
  let input = '';
  beforeEach(async () => {
    input = await mkdtemp(join(tmpdir(), 'chargen-formats-'));
  });
  afterEach(async () => {
    await rm(input, { recursive: true, force: true });
  });

  it('takes PNG and JPEG, reports GIF, BMP, TIFF and AVIF by name with the formats it takes, and names every other file', async () => {
    await mkdir(join(input, 'more'));
    await writeFile(join(input, 'hero.png'), createSamplePng('hero'));
    await writeFile(join(input, 'mage.JPG'), createSampleJpeg({ width: 64, height: 64 }));
    await writeFile(join(input, 'dancer.gif'), gif);
    await writeFile(join(input, 'scan.bmp'), bmp);
    await writeFile(join(input, 'more', 'photo.TIFF'), tiff);
    await writeFile(join(input, 'more', 'phone.avif'), Buffer.alloc(40));
    await writeFile(join(input, 'notes.txt'), 'my notes');
    await writeFile(join(input, '.DS_Store'), 'finder');
    await writeFile(join(input, 'left-out.gif'), gif);
    const logger = createMemoryLogger();
    const settings = analyzeSettingsSchema.parse({ ignore: ['left-out.gif'] });

    const collected = await collectInputImages({ inputDirectory: input, settings, logger });

    expect(collected.characters.map((character) => character.name)).toEqual(['hero.png', 'mage.JPG']);
    const failures = Object.fromEntries(collected.failures.map((failure) => [failure.sourcePath, failure]));
    expect(Object.keys(failures).sort()).toEqual(['dancer.gif', 'more/phone.avif', 'more/photo.TIFF', 'scan.bmp']);
    expect(failures['dancer.gif']?.reason).toContain('GIF');
    expect(failures['scan.bmp']?.reason).toContain('BMP');
    expect(failures['more/photo.TIFF']?.reason).toContain('TIFF');
    for (const failure of Object.values(failures)) {
      expect(failure.reason).toContain(takenFormatsText);
      expect(failure.fix).toMatch(/Convert it/);
    }
    expect(collected.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^\.DS_Store: /), expect.stringMatching(/^notes\.txt: /)]));
    const printed = logger.lines.map((line) => line.text).join('\n');
    for (const name of ['dancer.gif', 'scan.bmp', 'more/photo.TIFF', 'more/phone.avif', 'notes.txt', '.DS_Store']) expect(printed).toContain(name);
    // What the user left out on purpose is not reported.
    expect(printed).not.toContain('left-out.gif');
  });

  it('groups a folder into one character; over analyze.maxReferences, the least informative are left out and named', async () => {
    await mkdir(join(input, 'knight'));
    await writeFile(join(input, 'knight', 'big.png'), createSamplePng('big', { width: 90, height: 90 }));
    await writeFile(join(input, 'knight', 'mid.png'), createSamplePng('mid', { width: 60, height: 60 }));
    await writeFile(join(input, 'knight', 'small.png'), createSamplePng('small', { width: 30, height: 30 }));
    await writeFile(join(input, 'bard.png'), createSamplePng('bard'));
    const logger = createMemoryLogger();
    const collected = await collectInputImages({ inputDirectory: input, settings: analyzeSettingsSchema.parse({ maxReferences: 2 }), logger });
    expect(collected.characters.map((character) => character.name)).toEqual(['bard.png', 'knight/']);
    const knight = collected.characters[1];
    expect(knight?.sent.map((image) => image.relativePath)).toEqual(['knight/big.png', 'knight/mid.png']);
    expect(knight?.leftOut.map((image) => image.relativePath)).toEqual(['knight/small.png']);
    expect(collected.warnings).toEqual(['knight/: 3 references, its analysis takes the 2 most informative (analyze.maxReferences); left out: knight/small.png']);
  });

  it('is listed in the README: the formats chargen takes, and what happens to the others', async () => {
    const readme = await readFile(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    // The section as read (up to the next heading): line breaks and bold marks are layout.
    const formats = (/^## Input images\n\n([\s\S]+?)\n## /m.exec(readme)?.[1] ?? '').replace(/\s+/g, ' ').replaceAll('**', '');
    expect(formats).toContain(takenFormatsText);
    expect(formats).toMatch(/GIF, BMP, TIFF/);
  });
});
