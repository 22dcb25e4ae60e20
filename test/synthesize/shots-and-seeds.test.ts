import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { imageSidecarSchema } from '../../stages/synthesize/image-sidecar.ts';
import { summarizeSynthesis } from '../../stages/synthesize/synthesize-step.ts';
import { createSynthesizeFixture, type SynthesizeFixture } from '../support/synthesize-fixture.ts';

let fixture: SynthesizeFixture;
beforeEach(async () => {
  fixture = await createSynthesizeFixture();
});
afterEach(async () => fixture.close());

const shots = ['full figure, front', { name: 'three-quarter portrait', aspectRatio: '4:5' as const }, 'action pose'];

async function readSidecar(name: string) {
  return imageSidecarSchema.parse(JSON.parse(await readFile(join(fixture.outputDirectory, name), 'utf8')));
}

/** The generationConfig of every request line the image stage wrote (in either casing), from the workspace's request files. */
async function readGenerationConfigs(): Promise<Array<Record<string, unknown>>> {
  const directory = join(fixture.workspaceDirectory, 'requests', 'synthesize');
  const lines: string[] = [];
  for (const file of (await readdir(directory)).sort()) lines.push(...(await readFile(join(directory, file), 'utf8')).split('\n').filter(Boolean));
  return lines.map((line) => {
    const { request } = JSON.parse(line) as { request: Record<string, Record<string, unknown>> };
    return (request['generationConfig'] ?? request['generation_config']) as Record<string, unknown>;
  });
}

describe('shots and seeds on the emulator', () => {
  it('named shots give named images, each request with its seed, recorded in the sidecar beside the signature', async () => {
    const { prompts, records } = await fixture.createPrompts({ count: 2, settings: { variants: shots } });
    const result = await fixture.synthesize({ prompts, records });
    expect(result.failures).toEqual([]);
    expect(result.outputs.map((output) => output.image.slice(fixture.outputDirectory.length + 1))).toEqual([
      'hero-00000-full-figure-front.jpg', 'hero-00000-three-quarter-portrait.jpg', 'hero-00000-action-pose.jpg',
      'hero-00001-full-figure-front.jpg', 'hero-00001-three-quarter-portrait.jpg', 'hero-00001-action-pose.jpg',
    ]);
    const sidecar = await readSidecar('hero-00000-three-quarter-portrait.json');
    const prompt = prompts.find((entry) => entry.sourceImage.path === 'hero-00000.png' && entry.shot === 'three-quarter portrait');
    expect(sidecar).toMatchObject({ source: { path: 'hero-00000.png', variant: 2, shot: 'three-quarter portrait' }, seed: prompt?.seed, imageConfig: { aspectRatio: '4:5' } });
    expect(Object.keys(sidecar).indexOf('seed')).toBe(Object.keys(sidecar).indexOf('thoughtSignature') + 1);
    const seeds = (await readGenerationConfigs()).map((config) => config['seed']);
    expect(seeds.sort()).toEqual(prompts.map((entry) => entry.seed?.value).sort());
    expect(new Set(seeds).size).toBe(6);
  });

  it('seeds are stable across reruns: compiled again, the same seeds and requests, nothing sent', async () => {
    const first = await fixture.createPrompts({ count: 2, settings: { variants: shots } });
    expect((await fixture.synthesize(first)).report.sentLines).toBe(6);
    const again = await fixture.createPrompts({ count: 2, settings: { variants: shots } });
    expect(again.prompts.map((prompt) => prompt.seed)).toEqual(first.prompts.map((prompt) => prompt.seed));
    const rerun = await fixture.synthesize(again);
    expect(rerun.report.sentLines).toBe(0);
    expect(rerun.outputs.every((output) => output.status === 'unchanged')).toBe(true);
    // A changed compile.seed is a new request for every shot.
    const reseeded = await fixture.createPrompts({ count: 2, settings: { variants: shots, seed: 99 } });
    expect((await fixture.synthesize(reseeded)).report.sentLines).toBe(6);
    expect((await readSidecar('hero-00000-action-pose.json')).seed).toMatchObject({ source: 'config' });
  });

  it('images made before seeds were sent are kept: an upgraded rerun pays nothing, even with the outputs gone', async () => {
    // `seed: off` sends exactly the requests chargen sent before seeds (their keys are pinned in test/compile).
    const before = await fixture.createPrompts({ count: 2, settings: { variants: 2, seed: 'off' } });
    expect((await fixture.synthesize(before)).report.sentLines).toBe(4);
    const upgraded = await fixture.createPrompts({ count: 2, settings: { variants: 2 } });
    expect(upgraded.prompts.every((prompt) => prompt.seed?.source === 'auto')).toBe(true);
    const rerun = await fixture.synthesize(upgraded);
    expect(rerun.report.sentLines).toBe(0);
    expect(rerun.outputs.map((output) => output.status)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    await rm(fixture.outputDirectory, { recursive: true, force: true });
    const placed = await fixture.synthesize(upgraded);
    expect(placed.failures).toEqual([]);
    expect(placed.report.sentLines).toBe(0);
    expect(placed.outputs.map((output) => output.status)).toEqual(['written', 'written', 'written', 'written']);
    // The sidecar says what was sent: no seed.
    expect((await readSidecar('hero-00000-2.json')).seed).toBeUndefined();
    // A new shot is a new request, and it carries its seed.
    const more = await fixture.createPrompts({ count: 2, settings: { variants: 3 } });
    const grown = await fixture.synthesize(more);
    // (with three variants the built-in template says "variation n of 3": every prompt is new)
    expect(grown.report.sentLines).toBe(6);
    expect((await readSidecar('hero-00000-3.json')).seed).toMatchObject({ source: 'auto' });
  });

  it('a failed shot is named by its name in the log, its failure and the dead letters', async () => {
    const { prompts } = await fixture.createPrompts({ count: 1, settings: { variants: shots } });
    const marked = prompts.map((prompt) => (prompt.shot === 'action pose' ? { ...prompt, prompt: `${prompt.prompt} [[image-safety]]` } : prompt));
    const result = await fixture.synthesize({ prompts: marked });
    expect(result.failures).toMatchObject([{ sourcePath: 'hero-00000.png', variant: 3, shot: 'action pose', retryable: false }]);
    expect(fixture.logger.lines.map((line) => line.text).join('\n')).toContain('synthesize: hero-00000.png shot "action pose": ');
    expect(summarizeSynthesis({ outputs: 2, failures: result.failures }, { cached: 0, requestsSent: 3, status: 'done' }).deadLetter[0]?.source).toBe('hero-00000.png (shot "action pose")');
  });
});
