import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultRetryPolicy } from '../../lib/gemini/call-with-retry.ts';
import { createGeminiClient } from '../../lib/gemini/create-gemini-client.ts';
import { uploadFiles } from '../../lib/gemini/upload-files.ts';
import { openUploadRegistry } from '../../lib/gemini/upload-registry.ts';
import { readAnalysisCheckpoint, writeAnalysisCheckpoint } from '../../stages/analyze/analysis-checkpoint.ts';
import { analyzeSettingsSchema } from '../../schemas/analyze-settings.ts';
import { analyzeImages } from '../../stages/analyze/analyze-images.ts';
import { createGeminiFixture, type GeminiFixture } from '../support/gemini-fixture.ts';
import { createSampleJpeg, createSamplePng } from '../support/sample-images.ts';
import { testApiKey } from '../support/start-test-emulator.ts';

let fixture: GeminiFixture | undefined;
let outside: string | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
  if (outside) await rm(outside, { recursive: true, force: true });
});

const gif = Buffer.from([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3b]);

async function makeMixedFolder(root: string, outsideDirectory: string): Promise<void> {
  await mkdir(join(root, 'heroes'), { recursive: true });
  await writeFile(join(root, 'heroes', 'knight.png'), createSamplePng('knight'));
  await writeFile(join(root, 'heroes', 'Knight Copy.PNG'), createSamplePng('knight'));
  await writeFile(join(root, 'knight copy.png'), createSamplePng('knight'));
  await writeFile(join(root, 'mage.jpg'), createSampleJpeg({ width: 200, height: 300 }));
  await writeFile(join(root, 'really-a-jpeg.png'), createSampleJpeg({ width: 64, height: 64 }));
  await writeFile(join(root, 'empty.png'), Buffer.alloc(0));
  await writeFile(join(root, 'truncated.png'), createSamplePng('cut').subarray(0, 100));
  await writeFile(join(root, 'notes.png'), 'these are my notes, not an image');
  await writeFile(join(root, 'animated.png'), gif);
  await mkdir(join(root, 'folder.png'));
  await writeFile(join(outsideDirectory, 'secret.png'), createSamplePng('secret'));
  await symlink(join(outsideDirectory, 'secret.png'), join(root, 'escape.png'));
  await writeFile(join(root, 'readme.txt'), 'not matched by the pattern');
}

describe('analyzeImages on the emulator', () => {
  it('gives every character one valid record and every bad file a named failure; duplicates cost one request; a rerun sends nothing', async () => {
    fixture = await createGeminiFixture();
    const current = fixture;
    outside = await mkdtemp(join(tmpdir(), 'chargen-outside-'));
    const input = join(current.workspaceDirectory, 'input');
    await makeMixedFolder(input, outside);
    const client = createGeminiClient({ apiKey: testApiKey, baseUrl: current.emulator.baseUrl });
    const instructionTemplate = await readFile(join(import.meta.dirname, '..', '..', 'templates', 'analysis.hbs'), 'utf8');
    const settings = analyzeSettingsSchema.parse({});
    const run = async () => {
      const registry = await openUploadRegistry({ stateDirectory: current.workspaceDirectory, requiredLifetimeMilliseconds: 2 * 3600 * 1000 });
      try {
        return await analyzeImages({
          inputDirectory: input,
          settings,
          instructionTemplate,
          upload: (candidates) =>
            uploadFiles({ client, registry, candidates, concurrency: 8, now: () => current.emulator.clock.now(), retry: { policy: defaultRetryPolicy, environment: current.environment } }),
          executor: current.createBatchExecutor(),
          logger: current.logger,
        });
      } finally {
        await registry.close();
      }
    };

    const result = await run();
    // The folder heroes/ is one character; its two copies of one picture are one reference, said in a warning.
    expect(result.records.map((entry) => entry.sourcePath)).toEqual(['heroes/', 'knight copy.png', 'mage.jpg', 'really-a-jpeg.png']);
    const [heroes, copy] = result.records;
    expect(heroes?.references?.map((reference) => reference.path)).toEqual(['heroes/Knight Copy.PNG']);
    expect(result.warnings).toContain('heroes/knight.png: the same bytes as heroes/Knight Copy.PNG, in the same character; counted once');
    // A loose image with the same bytes as the folder's one reference: the same request, analysed once.
    expect(copy?.record).toEqual(heroes?.record);
    expect(heroes?.sameContentAs).toBeUndefined();
    expect(copy?.sameContentAs).toBe('heroes/');
    expect(result.records.find((entry) => entry.sourcePath === 'really-a-jpeg.png')?.mimeType).toBe('image/jpeg');
    expect(result.warnings.some((warning) => warning.startsWith('really-a-jpeg.png: named like PNG but is JPEG'))).toBe(true);

    const failures = Object.fromEntries(result.failures.map((failure) => [failure.sourcePath, failure.reason]));
    expect(Object.keys(failures).sort()).toEqual(['animated.png', 'empty.png', 'escape.png', 'folder.png', 'notes.png', 'truncated.png']);
    expect(failures['empty.png']).toContain('empty');
    expect(failures['animated.png']).toContain('GIF');
    expect(failures['folder.png']).toContain('folder');
    expect(failures['escape.png']).toContain('out of the input folder');
    expect(failures['notes.png']).toMatch(/not an image|text/);
    expect(result.failures.every((failure) => failure.fix.length > 0)).toBe(true);

    const stats = await current.emulator.stats();
    expect(stats['requestsByModel']).toEqual({ 'gemini-3-flash-preview': 3 });
    expect(stats['uploads']).toBe(4);

    await writeAnalysisCheckpoint(current.workspaceDirectory, result);
    expect((await readAnalysisCheckpoint(current.workspaceDirectory))?.records).toHaveLength(4);

    const again = await run();
    expect(again.records).toEqual(result.records);
    const statsAgain = await current.emulator.stats();
    expect(statsAgain['requestsByModel']).toEqual(stats['requestsByModel']);
    expect(statsAgain['uploads']).toBe(stats['uploads']);
    expect(statsAgain['batchesCreated']).toBe(stats['batchesCreated']);
  });
});
