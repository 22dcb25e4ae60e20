import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunJsonSummary } from '../../pipeline/cli/run-command.ts';
import { chargenBinary, runNodeProcess, startEmulatorProcess, type EmulatorProcess } from '../support/chargen-process.ts';
import { createSamplePng } from '../support/sample-images.ts';

const root = join(import.meta.dirname, '..', '..');
const apiKey = 'test-key-for-the-emulator-6f1d';


describe('chargen run end to end against a running emulator', () => {
  let project: string;
  let emulator: EmulatorProcess;
  let env: NodeJS.ProcessEnv;
  const run = async (...args: string[]) => {
    const result = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', ...args], env });
    return { ...result, summary: args.includes('--json') && result.stdout.trim() ? (JSON.parse(result.stdout) as RunJsonSummary) : undefined };
  };
  const requestsByModel = async () =>
    ((await (await fetch(`${emulator.baseUrl}/_emulator/stats`)).json()) as { requestsByModel: Record<string, number> }).requestsByModel;

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-run-'));
    await cp(join(root, 'input_images'), join(project, 'input_images'), { recursive: true });
    await cp(join(root, 'templates'), join(project, 'templates'), { recursive: true });
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify({ compile: { templateDirectory: 'templates', imageConfig: { aspectRatio: '3:4', imageSize: '1K' } } }));
    emulator = await startEmulatorProcess({ pendingMilliseconds: 50, runningMilliseconds: 50 });
    env = { ...process.env, GEMINI_API_KEY: apiKey, GOOGLE_API_KEY: '', CHARGEN_BASE_URL: emulator.baseUrl };
  });
  afterAll(async () => {
    await emulator.stop();
    await rm(project, { recursive: true, force: true });
  });

  it('a dry run plans the requests and their cost, and writes nothing', async () => {
    const before = await requestsByModel();
    const dry = await run('--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    const plan = (JSON.parse(dry.stdout) as { plan: { analyze: { toSend: number }; synthesize: { toSend: number; estimated: boolean }; costUsd: number } }).plan;
    expect(plan).toMatchObject({ analyze: { toSend: 6 }, synthesize: { toSend: 6, estimated: true } });
    expect(plan.costUsd).toBeGreaterThan(0);
    expect((await readdir(project)).sort()).toEqual(['chargen.config.json', 'input_images', 'templates']);
    expect(await requestsByModel()).toEqual(before);
  });

  it('makes an image and a sidecar per input, then a rerun sends nothing', async () => {
    const first = await run('--json', '--yes');
    expect(first.code, first.stderr).toBe(0);
    expect(first.summary?.stages).toMatchObject({
      analyze: { status: 'done', total: 6, succeeded: 6, requestsSent: 6 },
      compile: { status: 'done', total: 6 },
      synthesize: { status: 'done', total: 6, succeeded: 6, requestsSent: 6 },
    });
    expect(first.summary?.outputs).toContainEqual({ source: 'input_images/bard.png', image: 'final_characters/bard.jpg', sidecar: 'final_characters/bard.json' });
    expect((await readdir(join(project, 'final_characters'))).filter((name) => name.endsWith('.jpg'))).toHaveLength(6);
    const sidecar = JSON.parse(await readFile(join(project, 'final_characters', 'bard.json'), 'utf8')) as Record<string, unknown>;
    expect(sidecar).toMatchObject({
      source: { path: 'bard.png' },
      model: 'gemini-3-pro-image',
      image: { mimeType: 'image/jpeg', width: 896, height: 1200 },
      thoughtSignature: { file: 'bard.thought-signature' },
      imageConfig: { aspectRatio: '3:4', imageSize: '1K' },
    });

    const before = await requestsByModel();
    const second = await run('--json', '--yes');
    expect(second.code).toBe(0);
    expect(second.summary?.stages.analyze.status).toBe('skipped');
    expect(second.summary?.stages.synthesize).toMatchObject({ status: 'skipped', requestsSent: 0 });
    expect(await requestsByModel()).toEqual(before);
  });

  it('writes final_characters/index.html listing every image, and a run with nothing to do leaves it as it was', async () => {
    const sheetPath = join(project, 'final_characters', 'index.html');
    const sheet = await readFile(sheetPath, 'utf8');
    const rerun = await run('--json', '--yes');
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain(`contact sheet: ${join('final_characters', 'index.html')}`);
    expect(await readFile(sheetPath, 'utf8')).toBe(sheet);
    expect(sheet).toContain('6 images, 0 failed');
    expect(rerun.summary?.outputs).toHaveLength(6);
    for (const output of rerun.summary?.outputs ?? []) {
      expect(sheet).toContain(`<img src="${encodeURIComponent(basename(output.image))}"`);
      expect(sheet).toContain(`<a href="../${output.source.split(sep).map(encodeURIComponent).join('/')}">`);
    }
  });

  it('after a template edit sends only image requests; after a new image, one of each', async () => {
    const before = await requestsByModel();
    const template = join(project, 'templates', 'character.hbs');
    await writeFile(template, `${await readFile(template, 'utf8')}\nDrawn in ink.\n`);
    const edited = await run('--json', '--yes');
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.summary?.stages).toMatchObject({ analyze: { status: 'skipped' }, compile: { status: 'done' }, synthesize: { requestsSent: 6 } });
    const afterEdit = await requestsByModel();
    expect(afterEdit['gemini-3-flash-preview']).toBe(before['gemini-3-flash-preview']);
    expect(afterEdit['gemini-3-pro-image']).toBe((before['gemini-3-pro-image'] ?? 0) + 6);

    await writeFile(join(project, 'input_images', 'paladin.png'), createSamplePng('paladin'));
    const added = await run('--json', '--yes');
    expect(added.code, added.stderr).toBe(0);
    const afterAdd = await requestsByModel();
    expect(afterAdd['gemini-3-flash-preview']).toBe((afterEdit['gemini-3-flash-preview'] ?? 0) + 1);
    expect(afterAdd['gemini-3-pro-image']).toBe((afterEdit['gemini-3-pro-image'] ?? 0) + 1);
    expect(added.summary?.outputs).toHaveLength(7);
  });

  it('--from compile recomputes compile and reuses every image; --only refuses a stale upstream', async () => {
    const before = await requestsByModel();
    const from = await run('--from', 'compile', '--json', '--yes');
    expect(from.code, from.stderr).toBe(0);
    expect(from.summary?.stages).toMatchObject({ analyze: { status: 'skipped' }, compile: { status: 'done' }, synthesize: { status: 'done', requestsSent: 0, succeeded: 7 } });
    expect(await requestsByModel()).toEqual(before);

    const only = await run('--only', 'synthesize', '--json', '--yes');
    expect(only.code).toBe(0);
    expect(only.summary?.stages).toMatchObject({ analyze: { status: 'not-run' }, compile: { status: 'not-run' }, synthesize: { requestsSent: 0 } });

    await writeFile(join(project, 'chargen.config.json'), JSON.stringify({ compile: { templateDirectory: 'templates', variants: 2, imageConfig: { aspectRatio: '3:4', imageSize: '1K' } } }));
    const stale = await run('--only', 'synthesize');
    expect(stale.code).toBe(2);
    expect(stale.stderr).toContain('--only synthesize runs from the compile checkpoint');
    expect(stale.stderr).toContain('chargen run --from compile');
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify({ compile: { templateDirectory: 'templates', imageConfig: { aspectRatio: '3:4', imageSize: '1K' } } }));
  });

  it('a bad file is dead-lettered by name with exit 3; config errors are listed at once with exit 2', async () => {
    await writeFile(join(project, 'input_images', 'broken.png'), 'not a picture');
    const result = await run('--json', '--yes');
    expect(result.code).toBe(3);
    expect(result.summary?.deadLetter).toEqual([{ stage: 'analyze', source: 'broken.png', reason: expect.stringContaining('not an image') }]);
    await rm(join(project, 'input_images', 'broken.png'));

    await writeFile(join(project, 'bad.config.json'), JSON.stringify({ mode: 'fast', compile: { variants: 0, imageConfig: { imageSize: '2k' } } }));
    const bad = await run('--config', 'bad.config.json', '--backend', 'nowhere');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--backend');
    expect(bad.stderr).toContain('bad.config.json: mode');
    expect(bad.stderr).toContain('bad.config.json: compile.variants');
    expect(bad.stderr).toContain('bad.config.json: compile.imageConfig.imageSize');
  });

  it('a config naming a retired or unserved model exits 2 before any upload or request, naming what to use', async () => {
    const stats = async () => (await (await fetch(`${emulator.baseUrl}/_emulator/stats`)).json()) as { uploads: number; requestsByModel: Record<string, number>; batchesCreated: number };
    const before = await stats();
    await writeFile(join(project, 'retired.config.json'), JSON.stringify({ compile: { model: 'gemini-3-pro-image-preview' } }));
    const retired = await run('--config', 'retired.config.json', '--workdir', '.chargen-retired', '--yes');
    expect(retired.code).toBe(2);
    expect(retired.stderr).toContain('compile.model: gemini-3-pro-image-preview was shut down on 2026-06-25; use gemini-3-pro-image');

    // Unknown to the catalog: asked of the API (models.get), which answers 404; the nearest served names are offered.
    await writeFile(join(project, 'typo.config.json'), JSON.stringify({ compile: { model: 'gemini-3-pro-imag' } }));
    const typo = await run('--config', 'typo.config.json', '--workdir', '.chargen-typo', '--yes', '--json');
    expect(typo.code, typo.stderr).toBe(2);
    expect(typo.stderr).toContain('compile.model: gemini-3-pro-imag is not served by the API; served models nearest its name: gemini-3-pro-image');
    expect(typo.summary?.error?.code).toBe('model-not-served');
    const after = await stats();
    expect([after.uploads, after.batchesCreated, after.requestsByModel]).toEqual([before.uploads, before.batchesCreated, before.requestsByModel]);
  });

  it('sends no sampling parameter the user did not set, and warns about one set for a Gemini 3 model', async () => {
    const requestFiles = async (workdir: string) => {
      const folder = join(project, workdir, 'backends');
      const entries = await readdir(folder, { recursive: true, withFileTypes: true });
      const files = entries.filter((entry) => entry.isFile() && entry.parentPath.includes(`${sep}requests${sep}analyze`));
      return Promise.all(files.map((entry) => readFile(join(entry.parentPath, entry.name), 'utf8')));
    };
    const plain = await run('--workdir', '.chargen-sampling', '--only', 'analyze', '--yes');
    expect(plain.code, plain.stderr).toBe(0);
    expect((await requestFiles('.chargen-sampling')).join('')).not.toMatch(/temperature|top_?[pPkK]/);
    await writeFile(join(project, 'sampling.config.json'), JSON.stringify({ analyze: { temperature: 0.4 } }));
    const set = await run('--config', 'sampling.config.json', '--workdir', '.chargen-sampling-set', '--only', 'analyze', '--yes');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stderr).toContain("analyze: temperature sent as set; Google's Gemini 3 guide advises leaving them out");
    expect((await requestFiles('.chargen-sampling-set')).join('')).toMatch(/"temperature":0.4/);
  });

  it('a second run on a locked workspace exits 2 naming the holder; the key is nowhere in the workspace or outputs', async () => {
    await writeFile(join(project, '.chargen', 'lock'), JSON.stringify({ pid: process.pid, hostname: (await import('node:os')).hostname(), command: 'run', startedAt: new Date().toISOString() }));
    const locked = await run();
    expect(locked.code).toBe(2);
    expect(locked.stderr).toContain(`in use by process ${process.pid}`);
    await rm(join(project, '.chargen', 'lock'));

    for (const folder of ['.chargen', 'final_characters']) {
      const entries = await readdir(join(project, folder), { recursive: true, withFileTypes: true });
      for (const entry of entries.filter((file) => file.isFile())) {
        expect((await readFile(join(entry.parentPath, entry.name))).includes(apiKey), `${folder}/${entry.name}`).toBe(false);
      }
    }
  });
});
