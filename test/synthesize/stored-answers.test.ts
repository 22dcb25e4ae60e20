import { createHash } from 'node:crypto';
import { cp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStreamingResultReader } from '../../lib/gemini/stream-result-lines.ts';
import type { GenerationPrompt } from '../../schemas/generation-prompt.ts';
import { imageSidecarSchema } from '../../stages/synthesize/image-sidecar.ts';
import { describeOutputFolder } from '../support/describe-output-folder.ts';
import { createSynthesizeFixture, type SynthesizeFixture } from '../support/synthesize-fixture.ts';

let fixture: SynthesizeFixture;
beforeEach(async () => {
  fixture = await createSynthesizeFixture();
});
afterEach(async () => fixture.close());

const blobDirectory = () => join(fixture.workspaceDirectory, 'blobs', 'synthesize');
const imageRequests = async () => ((await fixture.emulator.stats())['requestsByModel'] as Record<string, number>)['gemini-3-pro-image'] ?? 0;
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

async function readSidecar(folder: string, name: string) {
  return imageSidecarSchema.parse(JSON.parse(await readFile(join(folder, name), 'utf8')));
}

/** The same bytes under another name: analyze gives both the same record, so both prompts make one request. */
function twinOf(prompt: GenerationPrompt, path: string): GenerationPrompt {
  return { ...prompt, sourceImage: { ...prompt.sourceImage, path } };
}

describe('received images are kept in the workspace and placed from there', () => {
  it('duplicate inputs give independent output files: copies, never links, so editing one changes nothing else', async () => {
    const { prompts } = await fixture.createPrompts({ count: 1 });
    const [prompt] = prompts as [GenerationPrompt];
    const result = await fixture.synthesize({ prompts: [prompt, twinOf(prompt, 'hero-twin.png')] });
    expect(result.report).toMatchObject({ requests: 1, sentLines: 1 });
    const [first, second] = result.outputs.map((output) => output.image) as [string, string];
    const [firstStat, secondStat] = [await stat(first), await stat(second)];
    expect(firstStat.ino).not.toBe(secondStat.ino);
    expect([firstStat.nlink, secondStat.nlink]).toEqual([1, 1]);
    const stored = join(blobDirectory(), (await readSidecar(fixture.outputDirectory, 'hero-00000.json')).image.sha256);
    expect((await stat(stored)).nlink).toBe(1);

    const storedHash = await sha256(stored);
    const secondHash = await sha256(second);
    await writeFile(first, 'edited in place');
    expect(await sha256(stored)).toBe(storedHash);
    expect(await sha256(second)).toBe(secondHash);
  });

  it('a stored image whose bytes no longer hash to its name is not used: the answer is asked again, and said so', async () => {
    const { prompts } = await fixture.createPrompts({ count: 2 });
    await fixture.synthesize({ prompts });
    const sidecar = await readSidecar(fixture.outputDirectory, 'hero-00000.json');
    const stored = join(blobDirectory(), sidecar.image.sha256);
    const bytes = await readFile(stored);
    bytes.writeUInt8(bytes.readUInt8(bytes.length >> 1) ^ 0xff, bytes.length >> 1);
    await writeFile(stored, bytes);
    await rm(fixture.outputDirectory, { recursive: true });

    const requestsBefore = await imageRequests();
    // Read as `chargen run` reads batch results: streamed into the store, where a file of the same name was changed.
    const again = await fixture.synthesize({ prompts, createResultReader: (directory) => createStreamingResultReader({ blobDirectory: directory }) });
    expect(again.failures).toEqual([]);
    expect(again.report).toMatchObject({ cachedKeys: 1, sentLines: 1 });
    expect(await imageRequests()).toBe(requestsBefore + 1);
    expect(fixture.logger.lines.map((line) => line.text)).toContainEqual(expect.stringMatching(/stored answer for hero-00000\.png was changed on disk.*asking for it again/));
    // The answer received again is stored again, whole; the placed image is the one the sidecar names.
    expect(await sha256(stored)).toBe(sidecar.image.sha256);
    expect(await sha256(join(fixture.outputDirectory, 'hero-00000.jpg'))).toBe(sidecar.image.sha256);
  });

  it('answers dropped from the store are asked again, said in one line', async () => {
    const { prompts } = await fixture.createPrompts({ count: 2 });
    await fixture.synthesize({ prompts });
    await rm(blobDirectory(), { recursive: true });
    await rm(fixture.outputDirectory, { recursive: true });
    const again = await fixture.synthesize({ prompts });
    expect(again.report).toMatchObject({ cachedKeys: 0, sentLines: 2 });
    expect(fixture.logger.lines.filter((line) => line.text.includes('had no image left in the workspace'))).toHaveLength(1);
  });

  it('names are kept per output folder: A → B → A asks nothing and doubles nothing, even with the names file lost', async () => {
    const { prompts } = await fixture.createPrompts({ count: 2, settings: { variants: 2 } });
    const folderB = join(dirname(fixture.outputDirectory), 'elsewhere');
    await fixture.synthesize({ prompts });
    const requestsBefore = await imageRequests();
    for (const outputDirectory of [folderB, fixture.outputDirectory, folderB, fixture.outputDirectory]) {
      const result = await fixture.synthesize({ prompts, outputDirectory });
      expect(result.report.sentLines).toBe(0);
      expect((await describeOutputFolder(outputDirectory)).problems).toEqual([]);
      expect((await describeOutputFolder(outputDirectory)).bySource.size).toBe(4);
    }
    // Without the workspace's names, chargen's own outputs are recognised by their sidecars and replaced in place.
    await rm(join(fixture.workspaceDirectory, 'checkpoints.sqlite'));
    await rm(join(fixture.outputDirectory, 'hero-00001-2.jpg'));
    const again = await fixture.synthesize({ prompts: prompts.map((prompt) => ({ ...prompt, prompt: `${prompt.prompt} At dusk.` })) });
    expect(again.outputs.map((output) => output.image.slice(fixture.outputDirectory.length + 1))).toEqual(['hero-00000.jpg', 'hero-00000-2.jpg', 'hero-00001.jpg', 'hero-00001-2.jpg']);
    expect((await describeOutputFolder(fixture.outputDirectory)).problems).toEqual([]);
    expect(await imageRequests()).toBe(requestsBefore + 4);
  });

  it("an older chargen's hashed double of an output is removed; a file the user put there is never touched", async () => {
    const { prompts } = await fixture.createPrompts({ count: 1 });
    await fixture.synthesize({ prompts });
    const folder = fixture.outputDirectory;
    // What chargen before the rule left after going to another folder and back: the same source under a hashed name.
    const sidecar = await readSidecar(folder, 'hero-00000.json');
    await cp(join(folder, 'hero-00000.jpg'), join(folder, 'hero-00000-653d5190.jpg'));
    await cp(join(folder, 'hero-00000.thought-signature'), join(folder, 'hero-00000-653d5190.thought-signature'));
    const double = { ...sidecar, image: { ...sidecar.image, file: 'hero-00000-653d5190.jpg' }, thoughtSignature: { ...sidecar.thoughtSignature, file: 'hero-00000-653d5190.thought-signature' } };
    await writeFile(join(folder, 'hero-00000-653d5190.json'), JSON.stringify(double));
    // The user's: a copy of the image with its sidecar under another name (which names the original image), and a drawing.
    await cp(join(folder, 'hero-00000.jpg'), join(folder, 'favourite.jpg'));
    await cp(join(folder, 'hero-00000.json'), join(folder, 'favourite.json'));
    await writeFile(join(folder, 'hero-00000-mine.png'), 'my own drawing');

    const result = await fixture.synthesize({ prompts });
    expect(result.report.sentLines).toBe(0);
    expect((await readdir(folder)).sort()).toEqual([
      'favourite.jpg', 'favourite.json', 'hero-00000-mine.png', 'hero-00000.jpg', 'hero-00000.json', 'hero-00000.thought-signature',
    ]);
    expect(await readFile(join(folder, 'hero-00000-mine.png'), 'utf8')).toBe('my own drawing');
    expect(fixture.logger.lines.map((line) => line.text)).toContainEqual(expect.stringContaining('removed 1 earlier double'));
  });
});
