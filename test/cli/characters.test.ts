// Issue 19's "done when", on a running emulator through the real SDK: a folder of three references is one character,
// analysed in one request with its three images, and every image request of it carries them; a changed reference
// asks again for that character alone.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAnalysisCheckpoint } from '../../stages/analyze/analysis-checkpoint.ts';
import { createMemoryLogger } from '../../lib/logger.ts';
import { startUiServer } from '../../pipeline/cli/ui-command.ts';
import { resolveConfig } from '../../pipeline/config/load-config.ts';
import { chargenBinary, runNodeProcess, startEmulatorProcess, type EmulatorProcess } from '../support/chargen-process.ts';
import { createSamplePng } from '../support/sample-images.ts';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The emulator's note in an image of the references (sha256, in the request's order) it was made from. */
function readReferences(bytes: Buffer): string[] | undefined {
  return /chargen-emulator references=([0-9a-f,]*)/.exec(bytes.toString('latin1'))?.[1]?.split(',');
}

describe('a character is a folder of references, carried whole to generation', () => {
  let project = '';
  let emulator: EmulatorProcess;
  let env: NodeJS.ProcessEnv;
  // Sizes differ, so the order (most pixels first) is front, side, back.
  const knight = { front: createSamplePng('knight-front', { width: 96, height: 128 }), side: createSamplePng('knight-side', { width: 64, height: 96 }), back: createSamplePng('knight-back', { width: 48, height: 64 }) };
  const bard = createSamplePng('bard');

  const requestsByModel = async () => ((await (await fetch(`${emulator.baseUrl}/_emulator/stats`)).json()) as { requestsByModel: Record<string, number> }).requestsByModel;
  async function run(): Promise<{ code: number | null; stderr: string; sent: Record<string, number> }> {
    const before = await requestsByModel();
    const result = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--json', '--yes', '--poll-interval', '50'], env });
    const after = await requestsByModel();
    return { code: result.code, stderr: result.stderr, sent: Object.fromEntries(Object.entries(after).map(([model, count]) => [model, count - (before[model] ?? 0)]).filter(([, count]) => count !== 0)) };
  }
  const readOutput = (name: string) => readFile(join(project, 'final_characters', name));
  const readSidecar = async (name: string) => JSON.parse((await readOutput(name)).toString('utf8')) as { key: string; source: { path: string }; references: { path: string; sha256: string }[]; prompt: string };

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-characters-'));
    await mkdir(join(project, 'input_images', 'knight'), { recursive: true });
    for (const [name, bytes] of Object.entries(knight)) await writeFile(join(project, 'input_images', 'knight', `${name}.png`), bytes);
    await writeFile(join(project, 'input_images', 'bard.png'), bard);
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify({ compile: { model: 'gemini-3-pro-image', imageConfig: { aspectRatio: '3:4', imageSize: '1K' }, variants: 2 } }));
    emulator = await startEmulatorProcess({ pendingMilliseconds: 20, runningMilliseconds: 20 });
    env = { ...process.env, GEMINI_API_KEY: 'characters-test-key', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: emulator.baseUrl };
  });
  afterAll(async () => {
    await emulator.stop();
    await rm(project, { recursive: true, force: true });
  });

  it('a folder of three references makes one analysis request with the three images, one record, and image requests that carry them', async () => {
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    // One analysis per character (knight/, bard.png), two images each.
    expect(first.sent).toEqual({ 'gemini-3-flash-preview': 2, 'gemini-3-pro-image': 4 });
    const analysis = await readAnalysisCheckpoint(join(project, '.chargen'));
    expect(analysis?.records.map((record) => record.sourcePath)).toEqual(['bard.png', 'knight/']);
    const record = analysis?.records.find((entry) => entry.sourcePath === 'knight/');
    expect(record?.references?.map((reference) => reference.path)).toEqual(['knight/front.png', 'knight/side.png', 'knight/back.png']);
    // The emulator counts 560 tokens an input image: the one request carried all three.
    const details = record?.usage?.['promptTokensDetails'] as { modality: string; tokenCount: number }[];
    expect(details.find((detail) => detail.modality === 'IMAGE')?.tokenCount).toBe(3 * 560);

    const order = [knight.front, knight.side, knight.back].map(sha256);
    for (const name of ['knight', 'knight-2']) {
      const sidecar = await readSidecar(`${name}.json`);
      expect(sidecar.source.path).toBe('knight/');
      expect(sidecar.references.map((reference) => reference.sha256)).toEqual(order);
      expect(sidecar.prompt).toContain('The 3 attached images are references of this same character');
      // What the emulator saw, written into the image it made: the three references, in order.
      expect(readReferences(await readOutput(`${name}.jpg`))).toEqual(order);
    }
    expect(readReferences(await readOutput('bard.jpg'))).toEqual([sha256(bard)]);
    expect((await readSidecar('bard.json')).prompt).not.toContain('attached images');
    // The contact sheet shows the folder's first reference as the character's source picture.
    const sheet = (await readOutput('index.html')).toString('utf8');
    expect(sheet).toContain('src="../input_images/knight/front.png"');
  }, 120_000);

  it('the UI gallery lists the character once a variant, and shows its first reference as its source', async () => {
    const file = { path: join(project, 'chargen.config.json'), value: JSON.parse(await readFile(join(project, 'chargen.config.json'), 'utf8')) as unknown };
    const ui = await startUiServer({ cwd: project, env, config: resolveConfig({ file, env: {}, flags: {} }), logger: createMemoryLogger(), port: 0, refreshMilliseconds: 50 });
    try {
      const page = (await (await fetch(new URL('/api/gallery', ui.url))).json()) as { items: { id: string; source: string; variant: number; sourceUrl: string }[] };
      const knightItems = page.items.filter((item) => item.source === 'knight/');
      expect(knightItems.map((item) => item.variant)).toEqual([1, 2]);
      const picture = Buffer.from(await (await fetch(new URL(knightItems[0]?.sourceUrl ?? '', ui.url))).arrayBuffer());
      expect(sha256(picture)).toBe(sha256(knight.front));
      const detail = (await (await fetch(new URL(`/api/gallery/${knightItems[0]?.id ?? ''}`, ui.url))).json()) as { references: string[] };
      expect(detail.references).toEqual(['knight/front.png', 'knight/side.png', 'knight/back.png']);
    } finally {
      await ui.close();
    }
  }, 60_000);

  it('a changed reference asks again for that character alone', async () => {
    const bardKeys = [(await readSidecar('bard.json')).key, (await readSidecar('bard-2.json')).key];
    await writeFile(join(project, 'input_images', 'knight', 'side.png'), createSamplePng('knight-side-redrawn', { width: 64, height: 96 }));
    const rerun = await run();
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.sent).toEqual({ 'gemini-3-flash-preview': 1, 'gemini-3-pro-image': 2 });
    expect([(await readSidecar('bard.json')).key, (await readSidecar('bard-2.json')).key]).toEqual(bardKeys);
    const redrawn = await readFile(join(project, 'input_images', 'knight', 'side.png'));
    expect(readReferences(await readOutput('knight.jpg'))).toContain(sha256(redrawn));

    const again = await run();
    expect(again.code, again.stderr).toBe(0);
    expect(again.sent).toEqual({});

    // A renamed reference is the same bytes: nothing is asked again, and the record names it as it is now called.
    await rename(join(project, 'input_images', 'knight', 'back.png'), join(project, 'input_images', 'knight', 'rear.png'));
    const renamed = await run();
    expect(renamed.code, renamed.stderr).toBe(0);
    expect(renamed.sent).toEqual({});
    const record = (await readAnalysisCheckpoint(join(project, '.chargen')))?.records.find((entry) => entry.sourcePath === 'knight/');
    expect(record?.references?.map((reference) => reference.path)).toContain('knight/rear.png');
  }, 120_000);
});
