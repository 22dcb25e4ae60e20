import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chargenBinary, runNodeProcess, startEmulatorProcess, type EmulatorProcess } from '../support/chargen-process.ts';

const root = join(import.meta.dirname, '..', '..');

describe('chargen run --detach, status, jobs, clean, and Ctrl-C', () => {
  let project: string;
  let emulator: EmulatorProcess;
  let env: NodeJS.ProcessEnv;
  const chargen = (...args: string[]) => runNodeProcess({ cwd: project, args: [chargenBinary, ...args], env });
  const stats = async () => (await (await fetch(`${emulator.baseUrl}/_emulator/stats`)).json()) as { batchesCreated: number; filesDeleted: number };

  beforeEach(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-detach-'));
    await cp(join(root, 'input_images'), join(project, 'input_images'), { recursive: true });
    // `status` must find the detached job unfinished: 3 s of PENDING leave room for a child process to start on a busy machine.
    emulator = await startEmulatorProcess({ pendingMilliseconds: 3000, runningMilliseconds: 800 });
    env = { ...process.env, GEMINI_API_KEY: 'dummy-key', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: emulator.baseUrl, CHARGEN_CONFIRM_ABOVE_USD: '100' };
  });
  afterEach(async () => {
    await emulator.stop();
    await rm(project, { recursive: true, force: true });
  });

  it('--detach submits and exits 4; status follows the job live; the next run picks it up without a second job', async () => {
    const detached = await chargen('run', '--detach', '--json');
    expect(detached.code, detached.stderr).toBe(4);
    expect(JSON.parse(detached.stdout)).toMatchObject({ exitCode: 4, stages: { analyze: { status: 'pending' }, synthesize: { status: 'not-run' } } });
    expect(detached.stderr).toContain('chargen status');

    const status = await chargen('status', '--json');
    expect(status.code, status.stderr).toBe(4);
    const jobs = (JSON.parse(status.stdout) as { jobs: { stage: string; state: string; requests: number }[] }).jobs;
    expect(jobs).toEqual([expect.objectContaining({ stage: 'analyze', requests: 6, state: expect.stringMatching(/PENDING|RUNNING/) })]);

    const listed = await chargen('jobs', 'list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { jobs: unknown[] }).jobs).toHaveLength(1);

    const resumed = await chargen('run', '--json', '--poll-interval', '200');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).outputs).toHaveLength(6);
    expect((await stats()).batchesCreated).toBe(2);

    const settled = await chargen('status');
    expect(settled.code).toBe(0);
    expect(settled.stdout).toContain('synthesize: 6 done');

    const cleaned = await chargen('clean', '--json');
    expect(cleaned.code, cleaned.stderr).toBe(0);
    expect((JSON.parse(cleaned.stdout) as { deleted: string[] }).deleted.length).toBeGreaterThanOrEqual(6);
  });

  it('Ctrl-C while a job runs saves state and exits 4; the rerun resumes the same job', async () => {
    const child = spawn(process.execPath, [chargenBinary, 'run', '--poll-interval', '200'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const lines = createInterface({ input: child.stderr });
    for await (const line of lines) {
      stderr += `${line}\n`;
      if (line.includes('submitted')) break;
    }
    child.kill('SIGINT');
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code, stderr).toBe(4);
    expect(stdout).toContain('Interrupted during analyze');
    expect(stdout).toContain('Run `chargen run` again to resume');
    expect(stderr).not.toMatch(/\n\s+at /);

    const rerun = await chargen('run', '--json', '--poll-interval', '200');
    expect(rerun.code, rerun.stderr).toBe(0);
    expect((await stats()).batchesCreated).toBe(2);
  });

  it('a workspace that does not exist is a clear error, not a stack trace', async () => {
    const status = await chargen('status', '--workdir', 'nowhere');
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('No chargen workspace at');
    expect(status.stderr).not.toMatch(/\n\s+at /);
  });
});
