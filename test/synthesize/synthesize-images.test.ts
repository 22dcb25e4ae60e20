import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inspectImageFile } from '../../lib/media/inspect-image-file.ts';
import type { GenerationPrompt } from '../../schemas/generation-prompt.ts';
import { imageSidecarSchema } from '../../stages/synthesize/image-sidecar.ts';
import { createSynthesizeFixture, type SynthesizeFixture } from '../support/synthesize-fixture.ts';
import { openResultCache } from '../../lib/gemini/result-cache.ts';

let fixture: SynthesizeFixture;
beforeEach(async () => {
  fixture = await createSynthesizeFixture();
});
afterEach(async () => fixture.close());

async function readSidecar(name: string) {
  return imageSidecarSchema.parse(JSON.parse(await readFile(join(fixture.outputDirectory, name), 'utf8')));
}

function withMarker(prompt: GenerationPrompt, marker: string): GenerationPrompt {
  return { ...prompt, prompt: `${prompt.prompt} ${marker}` };
}

describe('synthesizeImages on the emulator', () => {
  it('turns prompts into images of the asked size, with sidecars, and a rerun asks nothing', async () => {
    const { prompts, records } = await fixture.createPrompts({ count: 2, settings: { variants: 2 } });
    const result = await fixture.synthesize({ prompts, records });
    expect(result.failures).toEqual([]);
    expect(result.outputs.map((output) => output.image.slice(fixture.outputDirectory.length + 1))).toEqual([
      'hero-00000.jpg', 'hero-00000-2.jpg', 'hero-00001.jpg', 'hero-00001-2.jpg',
    ]);
    for (const output of result.outputs) {
      expect(await inspectImageFile(output.image)).toMatchObject({ ok: true, format: 'jpeg', width: 896, height: 1200 });
    }
    const sidecar = await readSidecar('hero-00000-2.json');
    const prompt = prompts.find((entry) => entry.sourceImage.path === 'hero-00000.png' && entry.variant === 2);
    expect(sidecar).toMatchObject({
      source: { path: 'hero-00000.png', variant: 2 },
      prompt: prompt?.prompt,
      model: 'gemini-3-pro-image',
      imageConfig: { aspectRatio: '3:4', imageSize: '1K' },
      finishReason: 'STOP',
      image: { file: 'hero-00000-2.jpg', mimeType: 'image/jpeg', width: 896, height: 1200 },
      thoughtSignature: { file: 'hero-00000-2.thought-signature' },
      thoughtImages: [],
      analysis: records.get('hero-00000.png'),
    });
    expect(sidecar.usage?.['thoughtsTokenCount']).toBeGreaterThan(0);
    // The image's thoughtSignature, as base64 text, byte for byte what the API sent.
    const signature = await readFile(join(fixture.outputDirectory, 'hero-00000-2.thought-signature'), 'latin1');
    expect(signature).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(signature.length).toBe(sidecar.thoughtSignature?.bytes);
    // Only images, signatures and sidecars: nothing temporary is left, and no thoughts were asked for.
    expect((await readdir(fixture.outputDirectory)).sort()).toEqual([
      'hero-00000-2.jpg', 'hero-00000-2.json', 'hero-00000-2.thought-signature', 'hero-00000.jpg', 'hero-00000.json', 'hero-00000.thought-signature',
      'hero-00001-2.jpg', 'hero-00001-2.json', 'hero-00001-2.thought-signature', 'hero-00001.jpg', 'hero-00001.json', 'hero-00001.thought-signature',
    ]);
    // The workspace keeps every received image and signature, named by the sha256 of its bytes, for later runs.
    const stored = await readdir(join(fixture.workspaceDirectory, 'blobs', 'synthesize'));
    for (const output of result.outputs) {
      const placed = imageSidecarSchema.parse(JSON.parse(await readFile(output.sidecar, 'utf8')));
      expect(stored).toContain(placed.image.sha256);
    }
    expect(stored.filter((name) => !/^[0-9a-f]{64}$/.test(name))).toEqual([]);

    const statsBefore = await fixture.emulator.stats();
    const again = await fixture.synthesize({ prompts, records });
    expect(again.outputs.map((output) => output.status)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    expect(again.report).toMatchObject({ requests: 0, sentLines: 0 });
    expect(await fixture.emulator.stats()).toEqual(statsBefore);
  });

  it.each([
    ['9:16', '2K', 1536, 2752],
    ['16:9', '1K', 1376, 768],
    ['1:1', '4K', 4096, 4096],
    ['21:9', '1K', 1584, 672],
  ] as const)('asks for %s at %s and gets an image of that shape and size', async (aspectRatio, imageSize, width, height) => {
    const { prompts } = await fixture.createPrompts({ count: 1, settings: { useReferenceImage: false, imageConfig: { aspectRatio, imageSize } } });
    const result = await fixture.synthesize({ prompts });
    expect(result.failures).toEqual([]);
    expect(await inspectImageFile(result.outputs[0]?.image as string)).toMatchObject({ ok: true, width, height });
    expect(result.warnings).toEqual([]);
  });

  it('asks for thoughts (includeThoughts) only with keepThoughts, and keeps the thought images beside the final one', async () => {
    const { prompts } = await fixture.createPrompts({ count: 1 });
    const result = await fixture.synthesize({ prompts, settings: { keepThoughts: true } });
    expect(result.failures).toEqual([]);
    const sidecar = await readSidecar('hero-00000.json');
    expect(sidecar.thoughtImages.map((file) => file.file)).toEqual(['hero-00000.thought-1.jpg']);
    const thought = await readFile(join(fixture.outputDirectory, 'hero-00000.thought-1.jpg'));
    expect(thought.equals(await readFile(join(fixture.outputDirectory, 'hero-00000.jpg')))).toBe(false);
    expect(sidecar.thoughtSignature?.file).toBe('hero-00000.thought-signature');
    const request = JSON.parse((await readFile(join(fixture.workspaceDirectory, 'requests', 'synthesize', (await readdir(join(fixture.workspaceDirectory, 'requests', 'synthesize')))[0] ?? ''), 'utf8')).split('\n')[0] ?? '{}') as Record<string, any>;
    const generationConfig = request['request']['generationConfig'] ?? request['request']['generation_config'];
    expect(JSON.stringify(generationConfig)).toMatch(/"thinking_?[cC]onfig":\{"include_?[tT]houghts":true\}/);
  });

  it('asks for no thoughts without keepThoughts', async () => {
    const { prompts } = await fixture.createPrompts({ count: 1 });
    await fixture.synthesize({ prompts });
    const file = (await readdir(join(fixture.workspaceDirectory, 'requests', 'synthesize')))[0] ?? '';
    expect(await readFile(join(fixture.workspaceDirectory, 'requests', 'synthesize', file), 'utf8')).not.toMatch(/include_?[tT]houghts|thinking_?[cC]onfig/);
  });

  it('reports policy blocks once and without retry, and an image that never comes after every round', async () => {
    const { prompts } = await fixture.createPrompts({ count: 4 });
    const marked = [
      withMarker(prompts[0] as GenerationPrompt, '[[image-safety]]'),
      withMarker(prompts[1] as GenerationPrompt, '[[prompt-block]]'),
      withMarker(prompts[2] as GenerationPrompt, '[[no-image]]'),
      prompts[3] as GenerationPrompt,
    ];
    const result = await fixture.synthesize({ prompts: marked });
    expect(result.outputs.map((output) => output.sourcePath)).toEqual(['hero-00003.png']);
    const byPath = new Map(result.failures.map((failure) => [failure.sourcePath, failure]));
    expect(byPath.get('hero-00000.png')).toMatchObject({ retryable: false, reason: expect.stringContaining('IMAGE_SAFETY') });
    expect(byPath.get('hero-00001.png')).toMatchObject({ retryable: false, reason: expect.stringContaining('prompt blocked') });
    expect(byPath.get('hero-00002.png')).toMatchObject({ retryable: true, reason: expect.stringContaining('NO_IMAGE') });
    expect(byPath.get('hero-00000.png')?.fix).toContain('templates');
    // 4 lines in round one, then only the NO_IMAGE line twice more.
    expect(result.report.sentLines).toBe(6);
  });

  it('after a crash between download and placing, the rerun places the images without asking again', async () => {
    const { prompts } = await fixture.createPrompts({ count: 3 });
    await fixture.synthesize({ prompts, executor: crashAfterExecute(fixture.createBatchExecutor()) }).catch(() => undefined);
    expect(await readdir(fixture.outputDirectory).catch(() => [])).toEqual([]);
    const statsBefore = await fixture.emulator.stats();
    const result = await fixture.synthesize({ prompts });
    expect(result.outputs).toHaveLength(3);
    expect(result.report).toMatchObject({ cachedKeys: 3, sentLines: 0 });
    expect(await fixture.emulator.stats()).toEqual(statsBefore);
  });

  it('an image deleted by hand is placed again from the store; one whose sidecar is missing is replaced under the same name', async () => {
    const { prompts } = await fixture.createPrompts({ count: 2 });
    await fixture.synthesize({ prompts });
    await rm(join(fixture.outputDirectory, 'hero-00000.jpg'));
    await rm(join(fixture.outputDirectory, 'hero-00001.json'));
    const result = await fixture.synthesize({ prompts });
    expect(result.outputs.map((output) => [output.image.slice(fixture.outputDirectory.length + 1), output.status])).toEqual([
      ['hero-00000.jpg', 'written'],
      ['hero-00001.jpg', 'written'],
    ]);
    expect(result.report).toMatchObject({ cachedKeys: 2, sentLines: 0 });
    expect((await readdir(fixture.outputDirectory)).sort()).toEqual([
      'hero-00000.jpg', 'hero-00000.json', 'hero-00000.thought-signature', 'hero-00001.jpg', 'hero-00001.json', 'hero-00001.thought-signature',
    ]);
  });

  it('in sync mode the images go to files, and the result cache holds no base64', async () => {
    const { prompts } = await fixture.createPrompts({ count: 2 });
    const result = await fixture.synthesize({ prompts, executor: fixture.createSyncExecutor() });
    expect(result.failures).toEqual([]);
    expect(result.outputs).toHaveLength(2);
    const cache = await openResultCache({ stateDirectory: fixture.workspaceDirectory, stage: 'synthesize' });
    const stored = result.outputs.map((output) => JSON.stringify(cache.get(output.key) ?? null));
    await cache.close();
    expect(stored.every((text) => text.length > 2 && text.length < 10_000)).toBe(true);
  });

  it('names outputs safely and uniquely, and never touches a file it did not write', async () => {
    const { prompts } = await fixture.createPrompts({ count: 4, settings: { useReferenceImage: false } });
    const renamed = prompts.map((prompt, index) => ({
      ...prompt,
      sourceImage: { ...prompt.sourceImage, path: ['../../escape.png', 'Zoë "the bold".png', 'Mira.png', 'mira.jpg'][index] as string },
    }));
    await mkdir(fixture.outputDirectory, { recursive: true });
    await writeFile(join(fixture.outputDirectory, 'Mira.png'), 'my own drawing');
    const result = await fixture.synthesize({ prompts: renamed });
    expect(result.failures).toEqual([]);
    const names = result.outputs.map((output) => output.image.slice(fixture.outputDirectory.length + 1));
    expect(names[0]).toBe('escape.jpg');
    expect(names).toContain('Zoë-the-bold.jpg');
    expect(names.filter((name) => /^mira-[0-9a-f]{8}\.jpg$/i.test(name))).toHaveLength(2);
    expect(await readFile(join(fixture.outputDirectory, 'Mira.png'), 'utf8')).toBe('my own drawing');
    for (const output of result.outputs) expect(output.image.startsWith(`${fixture.outputDirectory}/`)).toBe(true);
  });
});

function crashAfterExecute(executor: import('../../lib/gemini/gemini-executor.ts').GeminiExecutor) {
  return {
    async execute(options: Parameters<typeof executor.execute>[0]) {
      await executor.execute(options);
      throw new Error('simulated crash after the results were cached');
    },
  };
}
