import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const binary = join(root, 'bin', 'chargen.js');

async function runChargen(options: { cwd: string; args: string[]; env: NodeJS.ProcessEnv }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [binary, ...options.args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('chargen run --only analyze against a running emulator', () => {
  let project: string;
  let emulator: ReturnType<typeof spawn>;
  let baseUrl = '';
  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-run-'));
    await cp(join(root, 'input_images'), join(project, 'input_images'), { recursive: true });
    emulator = spawn(process.execPath, [binary, 'emulator', '--port', '0', '--pending-ms', '50', '--running-ms', '50'], { stdio: ['ignore', 'pipe', 'inherit'] });
    for await (const line of createInterface({ input: emulator.stdout! })) {
      const match = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match?.[1]) {
        baseUrl = match[1];
        break;
      }
    }
  });
  afterAll(async () => {
    emulator.kill('SIGINT');
    await once(emulator, 'exit');
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
