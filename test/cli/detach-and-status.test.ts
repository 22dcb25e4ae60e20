import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chargenBinary, runAndInterrupt, runNodeProcess, runWatchingStderr, startEmulatorProcess, type EmulatorProcess } from '../support/chargen-process.ts';
import { createEmulatorAdmin } from '../support/emulator-admin.ts';

const root = join(import.meta.dirname, '..', '..');
const jobMilliseconds = 600_000;

describe('chargen run --detach, status, jobs, clean, and Ctrl-C', () => {
  let project: string;
  let emulator: EmulatorProcess;
  let env: NodeJS.ProcessEnv;
  const chargen = (...args: string[]) => runNodeProcess({ cwd: project, args: [chargenBinary, ...args], env });
  /** A run that moves the emulator's clock past each job it submits, so the job finishes at once. */
  const runFinishingJobs = (...args: string[]) =>
    runWatchingStderr({ args, cwd: project, env, onLine: (line) => (line.includes('submitted') ? admin().advanceClock(jobMilliseconds + 1) : undefined) });
  const admin = () => createEmulatorAdmin(emulator.baseUrl);
  const stats = async () => (await (await fetch(`${emulator.baseUrl}/_emulator/stats`)).json()) as { batchesCreated: number; filesDeleted: number };

  beforeEach(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-detach-'));
    await cp(join(root, 'input_images'), join(project, 'input_images'), { recursive: true });
    // Jobs stay PENDING until the test moves the emulator's clock on: `status`, a second process, finds them open
    // however slow the machine, and no test waits on a timer.
    emulator = await startEmulatorProcess({ pendingMilliseconds: jobMilliseconds, runningMilliseconds: 0 });
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
    // The pending job reads the six images: they stay on the Files API, and status says how many bytes that holds.
    const [backend] = (JSON.parse(status.stdout) as { backends: { uploadedBytes: number }[] }).backends;
    expect(backend?.uploadedBytes).toBeGreaterThan(0);

    const listed = await chargen('jobs', 'list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { jobs: unknown[] }).jobs).toHaveLength(1);

    await admin().advanceClock(jobMilliseconds + 1);
    const resumed = await runFinishingJobs('run', '--json', '--poll-interval', '200');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).outputs).toHaveLength(6);
    expect((await stats()).batchesCreated).toBe(2);

    // The run deleted its six image uploads once its jobs were done (the storage budget); status holds no bytes.
    expect((await stats()).filesDeleted).toBeGreaterThanOrEqual(6);
    const settled = await chargen('status');
    expect(settled.code).toBe(0);
    expect(settled.stdout).toContain('synthesize: 6 done');
    expect(settled.stdout).not.toContain('held on its Files API');

    // The two jobs' request files went too, each once its job had ended: clean finds them gone.
    expect((await stats()).filesDeleted).toBeGreaterThanOrEqual(8);
    const cleaned = await chargen('clean', '--json');
    expect(cleaned.code, cleaned.stderr).toBe(0);
    const report = JSON.parse(cleaned.stdout) as { deleted: string[]; gone: string[] };
    expect(report.gone.length).toBeGreaterThanOrEqual(2);
    // Seven CLI processes one after the other: on a loaded machine (load 10 on 2 cores) that passes 30 s with
    // nothing wrong; no step waits on a timer, so only a hang meets this limit.
  }, 120_000);

  it('Ctrl-C while a job runs saves state and exits 4; the rerun resumes the same job', async () => {
    const { code, stdout, stderr } = await runAndInterrupt({ args: ['run', '--poll-interval', '200'], cwd: project, env, when: (line) => line.includes('submitted') });
    expect(code, stderr).toBe(4);
    expect(stdout).toContain('Interrupted during analyze');
    expect(stdout).toContain('Run `chargen run` again to resume');
    expect(stderr).not.toMatch(/\n\s+at /);

    await admin().advanceClock(jobMilliseconds + 1);
    const rerun = await runFinishingJobs('run', '--json', '--poll-interval', '200');
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
