import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceStatus } from '../../pipeline/workspace-status.ts';
import { chargenBinary, runNodeProcess, runWatchingStderr, startEmulatorProcess, type EmulatorProcess } from '../support/chargen-process.ts';
import { createEmulatorAdmin } from '../support/emulator-admin.ts';

const root = join(import.meta.dirname, '..', '..');
/** Jobs stay PENDING until the test moves the emulator's clock on: the run waits exactly where the test wants it. */
const jobMilliseconds = 600_000;

/**
 * `chargen status` is a second process reading the backend's database (WAL) while a run has it open and writes it:
 * it sees every answer committed so far and the job the run waits on, and neither process waits on the other.
 */
describe('chargen status while a run writes the database', () => {
  let project: string;
  let emulator: EmulatorProcess;
  let env: NodeJS.ProcessEnv;
  /** `status --json`: exit 4 while a job is open, 0 once none is. */
  const status = async (expectedCode: number) => {
    const result = await runNodeProcess({ cwd: project, args: [chargenBinary, 'status', '--json'], env });
    expect(result.code, result.stderr).toBe(expectedCode);
    return JSON.parse(result.stdout) as WorkspaceStatus;
  };

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-status-during-'));
    for (const name of ['bard.png', 'knight.png']) await cp(join(root, 'input_images', name), join(project, 'input_images', name));
    emulator = await startEmulatorProcess({ pendingMilliseconds: jobMilliseconds, runningMilliseconds: 0 });
    env = { ...process.env, GEMINI_API_KEY: 'status-during-run-key', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: emulator.baseUrl, CHARGEN_CONFIRM_ABOVE_USD: '100' };
  });
  afterAll(async () => {
    await emulator.stop();
    await rm(project, { recursive: true, force: true });
  });

  it('sees the answers committed so far and the open job, then all of them once the run ends', async () => {
    const admin = createEmulatorAdmin(emulator.baseUrl);
    let during: WorkspaceStatus | undefined;
    const run = await runWatchingStderr({
      args: ['run', '--json', '--poll-interval', '50'],
      cwd: project,
      env,
      onLine: async (line) => {
        if (/^analyze: batches\/\S+ submitted/.test(line)) await admin.advanceClock(jobMilliseconds + 1);
        if (/^synthesize: batches\/\S+ submitted/.test(line)) {
          // The run holds the database open, its analyze answers committed, and waits on the image job.
          during = await status(4);
          await admin.advanceClock(jobMilliseconds + 1);
        }
      },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(during?.backends).toHaveLength(1);
    expect(during?.backends[0]).toMatchObject({ answers: 2, openJobs: 1 });
    const after = await status(0);
    expect(after.backends[0]).toMatchObject({ answers: 4, openJobs: 0 });
  }, 120_000);
});
