import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargenBinary, runNodeProcess, startEmulatorProcess, type EmulatorProcess } from '../support/chargen-process.ts';

const root = join(import.meta.dirname, '..', '..');

const runChargen = (options: { cwd: string; args: string[]; env: NodeJS.ProcessEnv }) => runNodeProcess({ ...options, args: [chargenBinary, ...options.args] });

describe('chargen run --only analyze against a running emulator', () => {
  let project: string;
  let emulator: EmulatorProcess;
  let baseUrl = '';
  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-run-'));
    await cp(join(root, 'input_images'), join(project, 'input_images'), { recursive: true });
    emulator = await startEmulatorProcess({ pendingMilliseconds: 50, runningMilliseconds: 50 });
    baseUrl = emulator.baseUrl;
  });
  afterAll(async () => {
    await emulator.stop();
    await rm(project, { recursive: true, force: true });
  });

  it('analyses the sample images, then sends nothing on a rerun; a bad file makes exit 3 with its name', async () => {
    const env = { ...process.env, GEMINI_API_KEY: 'test-key-for-the-emulator', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: baseUrl };
    const first = await runChargen({ cwd: project, args: ['run', '--only', 'analyze', '--json'], env });
    expect(first.code, first.stderr).toBe(0);
    const summary = JSON.parse(first.stdout) as { exitCode: number; stages: { analyze: { succeeded: number; sent: number } } };
    expect(summary.stages.analyze).toMatchObject({ succeeded: 6, sent: 6 });
    const stats = await (await fetch(`${baseUrl}/_emulator/stats`)).json();

    const second = await runChargen({ cwd: project, args: ['run', '--only', 'analyze', '--json'], env });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).stages.analyze).toMatchObject({ succeeded: 6, sent: 0, cached: 6 });
    const statsAfter = (await (await fetch(`${baseUrl}/_emulator/stats`)).json()) as Record<string, unknown>;
    expect(statsAfter['requestsByModel']).toEqual((stats as Record<string, unknown>)['requestsByModel']);
    expect(statsAfter['uploads']).toBe((stats as Record<string, unknown>)['uploads']);

    await writeFile(join(project, 'input_images', 'broken.png'), 'not a picture');
    const third = await runChargen({ cwd: project, args: ['run', '--only', 'analyze'], env });
    expect(third.code).toBe(3);
    expect(third.stderr).toContain('broken.png: not an image');
    expect(third.stdout).toContain('6 of 7 images analysed');
    expect(`${first.stdout}${first.stderr}${third.stderr}`).not.toContain('test-key-for-the-emulator');
    const workspaceFiles = await readdir(join(project, '.chargen'), { recursive: true, withFileTypes: true });
    for (const entry of workspaceFiles.filter((file) => file.isFile())) {
      expect(await readFile(join(entry.parentPath, entry.name), 'utf8'), entry.name).not.toContain('test-key-for-the-emulator');
    }
  });

  it('refuses the stage that is not built yet with exit 2', async () => {
    const result = await runChargen({ cwd: project, args: ['run', '--only', 'synthesize'], env: process.env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--only analyze');
  });
});
