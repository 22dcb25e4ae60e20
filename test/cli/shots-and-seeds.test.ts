import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargenBinary, runNodeProcess, type EmulatorProcess } from '../support/chargen-process.ts';
import { startTwoCharacterProject, twoCharacterConfig } from '../support/two-character-project.ts';

/**
 * Named shots and seeds through `chargen run`, on the two-character project the workspace migration tests use, one
 * `chargen emulator` counting every model request.
 */
describe('chargen run with named shots and seeds', () => {
  let project: string;
  let emulator: EmulatorProcess;
  let env: NodeJS.ProcessEnv;

  const countImageRequests = async () =>
    ((await (await fetch(`${emulator.baseUrl}/_emulator/stats`)).json()) as { requestsByModel: Record<string, number> }).requestsByModel['gemini-3-pro-image'] ?? 0;

  async function run(compile: Record<string, unknown>): Promise<{ sent: number; stderr: string }> {
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify({ ...twoCharacterConfig, compile: { ...twoCharacterConfig.compile, ...compile } }));
    const before = await countImageRequests();
    const result = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--json', '--yes', '--poll-interval', '50'], env });
    expect(result.code, result.stderr).toBe(0);
    return { sent: (await countImageRequests()) - before, stderr: result.stderr };
  }

  const listImages = async () => (await readdir(join(project, 'final_characters'))).filter((name) => name.endsWith('.jpg')).sort();
  const readSidecar = async (name: string) => JSON.parse(await readFile(join(project, 'final_characters', name), 'utf8')) as Record<string, any>;

  beforeAll(async () => {
    ({ project, emulator, env } = await startTwoCharacterProject({ prefix: 'chargen-shots-' }));
  });
  afterAll(async () => {
    await emulator.stop();
    await rm(project, { recursive: true, force: true });
  });

  it('a workspace whose images were made without seeds pays nothing again once seeds are on, even with its outputs gone', async () => {
    // `seed: off` sends what chargen sent before seeds (byte for byte: the keys are pinned in test/compile).
    expect((await run({ seed: 'off' })).sent).toBe(2);
    expect((await run({})).sent).toBe(0);
    await rm(join(project, 'final_characters'), { recursive: true, force: true });
    expect((await run({})).sent).toBe(0);
    expect(await listImages()).toEqual(['bard.jpg', 'knight.jpg']);
    expect((await readSidecar('bard.json'))['seed']).toBeUndefined();
    const unseeded = (await readFile(join(project, 'final_characters', 'bard.jpg'))).toString('latin1');
    expect(unseeded).toMatch(/chargen-emulator references=[0-9a-f]+/);
    expect(unseeded).not.toMatch(/chargen-emulator references=[0-9a-f,]* seed=/);
  }, 180_000);

  it('named shots give named images; a rerun, and the shots reordered, send nothing and move no file', async () => {
    const shots = ['full figure, front', { name: 'Action pose', prompt: 'mid-leap, weapon raised' }];
    expect((await run({ variants: shots })).sent).toBe(4);
    const named = ['bard-Action-pose.jpg', 'bard-full-figure-front.jpg', 'knight-Action-pose.jpg', 'knight-full-figure-front.jpg'];
    expect((await listImages()).filter((name) => named.includes(name))).toEqual(named);
    const sidecar = await readSidecar('knight-Action-pose.json');
    expect(sidecar).toMatchObject({ source: { path: 'knight.png', variant: 2, shot: 'Action pose' }, seed: { source: 'auto' } });
    expect(sidecar['prompt']).toContain('Shot: mid-leap, weapon raised');
    const seed = sidecar['seed'];
    // The emulator notes in each image the seed its request carried.
    const note = (await readFile(join(project, 'final_characters', 'knight-Action-pose.jpg'))).toString('latin1');
    expect(/chargen-emulator references=[0-9a-f,]* seed=(\d+)/.exec(note)?.[1]).toBe(String(seed.value));
    // The contact sheet names the shot and the seed.
    const sheet = await readFile(join(project, 'final_characters', 'index.html'), 'utf8');
    expect(sheet).toContain('<dt>shot</dt><dd>Action pose</dd>');
    expect(sheet).toContain(`<dt>seed</dt><dd>${seed.value}</dd>`);
    expect((await run({ variants: shots })).sent).toBe(0);
    expect((await run({ variants: [...shots].reverse() })).sent).toBe(0);
    expect((await readSidecar('knight-Action-pose.json'))['seed']).toEqual(seed);
    // Another compile.seed: new images of every shot, each sidecar saying its seed came from the config.
    expect((await run({ variants: shots, seed: 5 })).sent).toBe(4);
    expect((await readSidecar('knight-Action-pose.json'))['seed']).toMatchObject({ source: 'config' });
  }, 180_000);

  it('named shots with templates that never say the shot stop before anything is sent (exit 2, naming character.hbs)', async () => {
    const main = join(project, 'templates', 'character.hbs');
    const kept = await readFile(main, 'utf8');
    await writeFile(main, kept.replace('{{> shot}}', ''));
    await writeFile(join(project, 'input_images', 'rogue.png'), await readFile(join(project, 'input_images', 'bard.png')).then((bytes) => Buffer.concat([bytes, Buffer.from('rogue')])));
    try {
      await writeFile(join(project, 'chargen.config.json'), JSON.stringify({ ...twoCharacterConfig, compile: { ...twoCharacterConfig.compile, variants: ['front', 'back'] } }));
      const stats = async () => JSON.stringify(((await (await fetch(`${emulator.baseUrl}/_emulator/stats`)).json()) as { requestsByModel: unknown }).requestsByModel);
      const before = await stats();
      const result = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--json', '--yes', '--poll-interval', '50'], env });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('character.hbs');
      expect(result.stderr).toContain('{{> shot}}');
      expect(await stats()).toBe(before);
    } finally {
      await writeFile(main, kept);
      await rm(join(project, 'input_images', 'rogue.png'));
    }
  }, 180_000);
});
