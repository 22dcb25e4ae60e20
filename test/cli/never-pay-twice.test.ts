import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunJsonSummary } from '../../pipeline/cli/run-command.ts';
import { chargenBinary, runNodeProcess, startEmulatorProcess, type EmulatorProcess } from '../support/chargen-process.ts';
import { describeOutputFolder } from '../support/describe-output-folder.ts';

const root = join(import.meta.dirname, '..', '..');

interface ProjectConfig {
  input: string;
  out: string;
  compile: { templateDirectory: string; model: string; imageConfig: { aspectRatio: string; imageSize: string }; variants: number; overrides: Record<string, string> };
  synthesize: { keepThoughts: boolean };
}

/**
 * The rule, tried as a user would break it: whatever is changed and changed back, whichever output folder, wherever
 * the input folder went, a request whose answer was received is never sent again, and every output folder holds one
 * image per source and variant. Each step runs `chargen run` as a child process against one `chargen emulator`,
 * whose stats count every model request.
 */
describe('the rule: an answer received is never paid for again', () => {
  let project: string;
  let emulator: EmulatorProcess;
  let env: NodeJS.ProcessEnv;
  const config: ProjectConfig = {
    input: 'input_images',
    out: 'final_characters',
    compile: { templateDirectory: 'templates', model: 'gemini-3-pro-image', imageConfig: { aspectRatio: '3:4', imageSize: '1K' }, variants: 1, overrides: {} },
    synthesize: { keepThoughts: false },
  };
  const outputFolders = new Set<string>();

  const requestsByModel = async () =>
    ((await (await fetch(`${emulator.baseUrl}/_emulator/stats`)).json()) as { requestsByModel: Record<string, number> }).requestsByModel;

  /** Writes the config, runs chargen, and returns what it sent (by the emulator's count) and printed. */
  async function run(): Promise<{ sent: Record<string, number>; summary: RunJsonSummary; stderr: string }> {
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify(config));
    const before = await requestsByModel();
    const result = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--json', '--yes', '--poll-interval', '50'], env });
    expect(result.code, result.stderr).toBe(0);
    const after = await requestsByModel();
    const sent = Object.fromEntries(Object.entries(after).map(([model, count]) => [model, count - (before[model] ?? 0)]).filter(([, count]) => count !== 0));
    outputFolders.add(config.out);
    return { sent, summary: JSON.parse(result.stdout) as RunJsonSummary, stderr: result.stderr };
  }

  /** Every output folder used so far: one image per source and variant, nothing doubled, nothing unclaimed. */
  async function expectTidyOutputFolders(): Promise<void> {
    for (const folder of outputFolders) {
      const report = await describeOutputFolder(join(project, folder));
      expect(report.problems, `${folder}: ${report.problems.join('; ')}`).toEqual([]);
      for (const id of report.bySource.keys()) expect(id, `${folder} holds an output of an output`).toMatch(/^(bard|knight)\.png#\d$/);
    }
  }

  /** The change costs what it costs once; going back, and forth again, and back, costs nothing. */
  async function expectChangeAndBackFree(change: { apply: () => Promise<void> | void; revert: () => Promise<void> | void }): Promise<void> {
    await change.apply();
    await run();
    await expectTidyOutputFolders();
    for (const step of [change.revert, change.apply, change.revert]) {
      await step();
      const { sent, summary } = await run();
      expect(sent).toEqual({});
      expect(summary.stages.synthesize.requestsSent).toBe(0);
      await expectTidyOutputFolders();
    }
  }

  const templatePath = () => join(project, 'templates', 'character.hbs');

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-rule-'));
    for (const name of ['bard.png', 'knight.png']) await cp(join(root, 'input_images', name), join(project, 'input_images', name));
    await cp(join(root, 'templates'), join(project, 'templates'), { recursive: true });
    emulator = await startEmulatorProcess({ pendingMilliseconds: 20, runningMilliseconds: 20 });
    env = { ...process.env, GEMINI_API_KEY: 'rule-test-key', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: emulator.baseUrl };
    const first = await run();
    expect(first.sent).toEqual({ 'gemini-3-flash-preview': 2, 'gemini-3-pro-image': 2 });
    await expectTidyOutputFolders();
  });
  afterAll(async () => {
    await emulator.stop();
    await rm(project, { recursive: true, force: true });
  });

  it('template text changed and changed back', async () => {
    const original = await readFile(templatePath(), 'utf8');
    await expectChangeAndBackFree({
      apply: () => writeFile(templatePath(), `${original}\nDrawn in the morning light.\n`),
      revert: () => writeFile(templatePath(), original),
    });
  }, 60_000);

  it('a rule changed and changed back', async () => {
    await expectChangeAndBackFree({ apply: () => void (config.compile.overrides = { mood: 'serene' }), revert: () => void (config.compile.overrides = {}) });
  }, 60_000);

  it('imageConfig changed and changed back', async () => {
    await expectChangeAndBackFree({ apply: () => void (config.compile.imageConfig.aspectRatio = '1:1'), revert: () => void (config.compile.imageConfig.aspectRatio = '3:4') });
  }, 60_000);

  it('variants 1 → 2 → 1', async () => {
    await expectChangeAndBackFree({ apply: () => void (config.compile.variants = 2), revert: () => void (config.compile.variants = 1) });
  }, 60_000);

  it('the image model switched between two served ones (JPEG and PNG) and back', async () => {
    await expectChangeAndBackFree({ apply: () => void (config.compile.model = 'gemini-2.5-flash-image'), revert: () => void (config.compile.model = 'gemini-3-pro-image') });
  }, 60_000);

  it('keepThoughts on and off', async () => {
    await expectChangeAndBackFree({ apply: () => void (config.synthesize.keepThoughts = true), revert: () => void (config.synthesize.keepThoughts = false) });
  }, 60_000);

  it('output folders A → B → A: nothing is asked again, and nothing is doubled', async () => {
    for (const out of ['elsewhere', 'final_characters', 'elsewhere', 'final_characters']) {
      config.out = out;
      const { sent } = await run();
      expect(sent).toEqual({});
      await expectTidyOutputFolders();
    }
  }, 60_000);

  it('the input folder moved', async () => {
    await rename(join(project, 'input_images'), join(project, 'pictures'));
    config.input = 'pictures';
    const { sent } = await run();
    expect(sent).toEqual({});
    await expectTidyOutputFolders();
  }, 60_000);

  it('an output folder inside the input folder is never read as input, and says so once', async () => {
    config.out = 'pictures/out';
    for (let round = 0; round < 3; round += 1) {
      const { sent, stderr } = await run();
      expect(sent).toEqual({});
      await expectTidyOutputFolders();
      expect(stderr.split('\n').filter((line) => line.includes('inside the input folder')), stderr).toHaveLength(1);
    }
    config.out = 'final_characters';
    expect((await run()).sent).toEqual({});
    // The input folder moves again, taking the earlier output folder with it: its images are still chargen's own.
    await rename(join(project, 'pictures'), join(project, 'drawings'));
    outputFolders.delete('pictures/out');
    outputFolders.add('drawings/out');
    config.input = 'drawings';
    const moved = await run();
    expect(moved.sent).toEqual({});
    expect(moved.stderr.split('\n').filter((line) => line.includes('never read as input')), moved.stderr).toEqual([expect.stringContaining('out/bard.jpg')]);
    await expectTidyOutputFolders();
  }, 60_000);

  it('an output image deleted by hand comes back under its name, with no orphaned sidecar', async () => {
    await rm(join(project, 'final_characters', 'bard.jpg'));
    const { sent, summary } = await run();
    expect(sent).toEqual({});
    expect(summary.outputs).toContainEqual(expect.objectContaining({ image: join('final_characters', 'bard.jpg') }));
    await expectTidyOutputFolders();
  }, 60_000);

  it('status says how much disk the stored answers take; clean --answers drops them, warning what that costs', async () => {
    const chargen = (...args: string[]) => runNodeProcess({ cwd: project, args: [chargenBinary, ...args], env });
    const status = await chargen('status', '--json');
    const stored = (JSON.parse(status.stdout) as { storedAnswers: { files: number; bytes: number } }).storedAnswers;
    expect(stored.files).toBeGreaterThan(0);
    expect(stored.bytes).toBeGreaterThan(0);
    expect((await chargen('status')).stdout).toMatch(/stored answers: [\d.]+ [kMG]?B in \d+ files .*chargen clean --answers/);

    const cleaned = await chargen('clean', '--answers');
    expect(cleaned.code, cleaned.stderr).toBe(0);
    expect(cleaned.stderr).toMatch(/warning: clean --answers: deleting .* will be asked for, and paid for, again/);
    expect(cleaned.stdout).toContain('stored answers deleted');
    expect((JSON.parse((await chargen('status', '--json')).stdout) as { storedAnswers: unknown }).storedAnswers).toEqual({ files: 0, bytes: 0 });

    // What the warning said: outputs in place stay free; an image not in place is paid for again, as the dry run says.
    expect((await run()).sent).toEqual({});
    config.out = 'after-clean';
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify(config));
    const dry = await chargen('run', '--dry-run', '--json');
    expect((JSON.parse(dry.stdout) as { plan: { synthesize: { toSend: number } } }).plan.synthesize.toSend, dry.stderr).toBe(2);
    const { sent, stderr } = await run();
    // 2 images asked again; plain `clean` also deleted the reference uploads, whose registry still names them, so each
    // request's first try may fail for its file and go again after the upload is made anew.
    expect(Object.keys(sent)).toEqual(['gemini-3-pro-image']);
    expect(sent['gemini-3-pro-image']).toBeGreaterThanOrEqual(2);
    expect(stderr).toContain('had no image left in the workspace');
    await expectTidyOutputFolders();
  }, 60_000);
});
