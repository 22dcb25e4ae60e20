import { createHash } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargenBinary, runNodeProcess, type EmulatorProcess } from '../support/chargen-process.ts';
import { startTwoCharacterProject, twoCharacterConfig } from '../support/two-character-project.ts';

/**
 * synthesize.sheet through `chargen run` on the two-character project, one `chargen emulator` counting every model
 * request: a turnaround sheet per character first, then every shot with it as its first reference.
 */
describe('chargen run with turnaround sheets', () => {
  let project: string;
  let emulator: EmulatorProcess;
  let env: NodeJS.ProcessEnv;
  const shots = ['full figure, front', 'action pose'];
  const config = { ...twoCharacterConfig, compile: { ...twoCharacterConfig.compile, variants: shots }, synthesize: { sheet: true } };

  const countImageRequests = async () =>
    ((await (await fetch(`${emulator.baseUrl}/_emulator/stats`)).json()) as { requestsByModel: Record<string, number> }).requestsByModel['gemini-3-pro-image'] ?? 0;

  async function run(args: string[] = []): Promise<{ sent: number; code: number | null; stdout: string; stderr: string }> {
    const before = await countImageRequests();
    const result = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--json', '--yes', '--poll-interval', '50', ...args], env });
    return { sent: (await countImageRequests()) - before, code: result.code, stdout: result.stdout, stderr: result.stderr };
  }

  const output = (name: string) => join(project, 'final_characters', name);
  const listImages = async () => (await readdir(join(project, 'final_characters'))).filter((name) => name.endsWith('.jpg')).sort();
  const readSidecar = async (name: string) => JSON.parse(await readFile(output(name), 'utf8')) as Record<string, any>;
  const sha256Of = async (name: string) => createHash('sha256').update(await readFile(output(name))).digest('hex');
  // The emulator notes in each image the sha256 of every image its request carried, in order.
  const referencesOf = async (name: string) => /chargen-emulator references=([0-9a-f,]*)/.exec((await readFile(output(name))).toString('latin1'))?.[1]?.split(',') ?? [];

  beforeAll(async () => {
    ({ project, emulator, env } = await startTwoCharacterProject({ prefix: 'chargen-sheets-' }));
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify(config));
  });
  afterAll(async () => {
    await emulator.stop();
    await rm(project, { recursive: true, force: true });
  });

  const dryRun = async () => {
    const result = await run(['--dry-run']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.sent).toBe(0);
    return (JSON.parse(result.stdout) as { stages: { synthesize: { total: number; cached: number } } }).stages.synthesize;
  };

  it('makes one sheet per character, referenced first by every shot; a rerun pays for nothing', async () => {
    // The dry run counts a sheet and two shots for each character.
    expect(await dryRun()).toMatchObject({ total: 6, cached: 0 });
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    expect(first.sent).toBe(2 + 4);
    // The run's summary counts the sheets with the images they were made for.
    expect((JSON.parse(first.stdout) as { stages: { synthesize: unknown } }).stages.synthesize).toMatchObject({ total: 6, succeeded: 6, failed: 0, requestsSent: 6 });
    expect(await listImages()).toEqual([
      'bard-action-pose.jpg',
      'bard-full-figure-front.jpg',
      'bard-turnaround-sheet.jpg',
      'knight-action-pose.jpg',
      'knight-full-figure-front.jpg',
      'knight-turnaround-sheet.jpg',
    ]);
    const sheet = await readSidecar('knight-turnaround-sheet.json');
    expect(sheet).toMatchObject({ source: { path: 'knight.png', shot: 'turnaround sheet' }, imageConfig: { aspectRatio: '16:9' } });
    expect(sheet['prompt']).toContain('Turnaround sheet');
    const knight = await readFile(join(project, 'input_images', 'knight.png'));
    expect(await referencesOf('knight-turnaround-sheet.jpg')).toEqual([createHash('sha256').update(knight).digest('hex')]);
    for (const character of ['bard', 'knight']) {
      const sheetSha = await sha256Of(`${character}-turnaround-sheet.jpg`);
      for (const shot of ['action-pose', 'full-figure-front']) {
        const references = await referencesOf(`${character}-${shot}.jpg`);
        expect(references).toHaveLength(2);
        expect(references[0]).toBe(sheetSha);
        expect((await readSidecar(`${character}-${shot}.json`))['references'][0]).toEqual({ path: `${character}-turnaround-sheet.jpg`, sha256: sheetSha });
      }
    }
    expect(await dryRun()).toMatchObject({ total: 6, cached: 6 });
    const rerun = await run();
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.sent).toBe(0);
    // The sheets' jobs (executor stage `sheet`) read back like any other.
    for (const args of [['status', '--json'], ['jobs', 'list', '--json']]) {
      const shown = await runNodeProcess({ cwd: project, args: [chargenBinary, ...args], env });
      expect(shown.code, shown.stderr).toBe(0);
      if (args[0] === 'jobs') expect(shown.stdout).toContain('sheet');
    }
  }, 180_000);

  it('a sheet changed by hand is used as it is: its shots are asked again, nothing else', async () => {
    // Another valid image in the knight's sheet's place (the bard's sheet, a few bytes of JPEG comment apart).
    const edited = await readFile(output('bard-turnaround-sheet.jpg'));
    await writeFile(output('knight-turnaround-sheet.jpg'), edited);
    const bardShot = await readFile(output('bard-action-pose.jpg'));
    expect(await dryRun()).toMatchObject({ total: 6, cached: 4 });
    const result = await run();
    expect(result.code, result.stderr).toBe(0);
    expect(result.sent).toBe(2);
    expect(await readFile(output('knight-turnaround-sheet.jpg'))).toEqual(edited);
    const editedSha = createHash('sha256').update(edited).digest('hex');
    expect((await referencesOf('knight-action-pose.jpg'))[0]).toBe(editedSha);
    expect(await readFile(output('bard-action-pose.jpg'))).toEqual(bardShot);
    expect((await run()).sent).toBe(0);
  }, 180_000);

  it('a stage run on its own with sheets on is a usage error, before anything is sent', async () => {
    const result = await run(['--only', 'synthesize']);
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr, result.stdout).toContain('synthesize.sheet is on');
    expect(result.sent).toBe(0);
  }, 180_000);

  it('with sheets off, the same project makes no sheet and names no file after one', async () => {
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify({ ...config, synthesize: {} }));
    const result = await run();
    expect(result.code, result.stderr).toBe(0);
    // The shots without their sheet are new requests; no sheet is asked.
    expect(result.sent).toBe(4);
    expect((await readSidecar('knight-action-pose.json'))['references']).toEqual([{ path: 'knight.png', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect((await referencesOf('knight-action-pose.jpg'))).toHaveLength(1);
  }, 180_000);

  it('a sheet the model refuses is a dead letter, and its shots wait for it (not asked, not paid)', async () => {
    const template = join(project, 'templates', 'sheet.hbs');
    const kept = await readFile(template, 'utf8');
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify(config));
    await writeFile(template, `${kept}\n[[image-safety]]`);
    try {
      const result = await run();
      expect(result.code, result.stderr).toBe(3);
      // The knight's sheet was changed by hand, and is kept: only the bard's is asked, and refused.
      expect(result.sent).toBe(1);
      const deadLetter = (JSON.parse(result.stdout) as { deadLetter: { source: string; reason: string }[] }).deadLetter;
      expect(deadLetter).toContainEqual({ stage: 'synthesize', source: 'bard.png (shot "turnaround sheet")', reason: expect.stringContaining('IMAGE_SAFETY') });
      expect(deadLetter.filter((letter) => letter.reason.startsWith('not asked: its turnaround sheet was not made'))).toHaveLength(2);
    } finally {
      await writeFile(template, kept);
    }
  }, 180_000);
});
