import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUiServer } from '../../pipeline/cli/ui-command.ts';
import { resolveConfig } from '../../pipeline/config/load-config.ts';
import { resolveBackendIdentity } from '../../pipeline/connect-backend.ts';
import { createMemoryLogger } from '../../lib/logger.ts';
import { chargenBinary, runNodeProcess, startEmulatorProcess, type EmulatorProcess } from '../support/chargen-process.ts';
import { createSamplePng } from '../support/sample-images.ts';

interface StatusJson {
  exitCode: number;
  backend: string;
  backends: { identity: string; label: string; answers: number; openJobs: number }[];
  jobs: { stage: string; backend: string; state: string; requests: number }[];
}

// A run in one shell (key and CHARGEN_BASE_URL set), then the commands a user types in a new shell, without them.
describe('the workspace remembers its backend', () => {
  let project: string;
  let emulator: EmulatorProcess;
  let withKey: NodeJS.ProcessEnv;
  let newShell: NodeJS.ProcessEnv;
  let endpoint: string;
  const chargen = (env: NodeJS.ProcessEnv, ...args: string[]) => runNodeProcess({ cwd: project, args: [chargenBinary, ...args], env });

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-memory-'));
    await mkdir(join(project, 'input_images'));
    for (const name of ['bard', 'mage']) await writeFile(join(project, 'input_images', `${name}.png`), createSamplePng(name));
    // The job stays PENDING for the whole test: it is the one a new shell must still see.
    emulator = await startEmulatorProcess({ pendingMilliseconds: 600_000, runningMilliseconds: 1_000 });
    const { CHARGEN_BACKEND: _backend, ...inherited } = process.env;
    withKey = { ...inherited, GEMINI_API_KEY: 'test-key-memory-41c2', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: emulator.baseUrl };
    newShell = { ...inherited, GEMINI_API_KEY: '', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: '' };
    endpoint = await resolveBackendIdentity({ choice: 'auto', cwd: project, env: withKey });
  });
  afterAll(async () => {
    await emulator.stop();
    await rm(project, { recursive: true, force: true });
  });

  it('a run names its backend; status, a dry run and the ui in a new shell show its job and say whose it is', async () => {
    const detached = await chargen(withKey, 'run', '--detach');
    expect(detached.code, detached.stderr).toBe(4);
    expect(detached.stderr).toContain(`backend: ${emulator.baseUrl}`);

    const status = await chargen(newShell, 'status', '--json');
    expect(status.code, status.stderr).toBe(4);
    const parsed = JSON.parse(status.stdout) as StatusJson;
    expect(parsed.backend).toBe(endpoint);
    expect(parsed.jobs).toEqual([expect.objectContaining({ stage: 'analyze', backend: endpoint, state: 'submitted', requests: 2 })]);
    expect(parsed.backends).toContainEqual(expect.objectContaining({ identity: endpoint, label: emulator.baseUrl, openJobs: 1 }));
    const human = await chargen(newShell, 'status');
    expect(human.stdout).toContain(emulator.baseUrl);
    expect(human.stdout).toContain('no API key');

    const dry = await chargen(newShell, 'run', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`backend: ${emulator.baseUrl}`);
    expect(dry.stdout).toContain('1 batch job still open');

    const ui = await startUiServer({ cwd: project, env: newShell, config: resolveConfig({ env: {}, flags: {} }), logger: createMemoryLogger(), port: 0 });
    try {
      expect(ui.backend).toBe(endpoint);
    } finally {
      await ui.close();
    }
  });

  it('a real run in a new shell stops and says how to reach the backend, instead of starting afresh elsewhere', async () => {
    const run = await chargen(newShell, 'run', '--yes');
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(emulator.baseUrl);
    expect(run.stderr).toContain('--backend emulator');
    expect(run.stderr).not.toContain('built-in Gemini emulator at');

    const live = await chargen(withKey, 'status', '--json');
    expect(live.code, live.stderr).toBe(4);
    expect((JSON.parse(live.stdout) as StatusJson).jobs).toEqual([expect.objectContaining({ backend: endpoint, state: 'JOB_STATE_PENDING' })]);
  });

  it('--backend emulator says why it is used; status then lists the answers and jobs of both backends', async () => {
    const run = await chargen(newShell, 'run', '--backend', 'emulator', '--only', 'analyze');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('backend: the built-in emulator');
    expect(run.stderr).not.toContain('No API key set');

    const status = await chargen(newShell, 'status', '--json');
    const parsed = JSON.parse(status.stdout) as StatusJson;
    expect(parsed.backends).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ identity: 'emulator', answers: 2, openJobs: 0 }),
        expect.objectContaining({ identity: endpoint, answers: 0, openJobs: 1 }),
      ]),
    );
    expect(parsed.jobs.map((job) => job.backend).sort()).toEqual(['emulator', endpoint].sort());
    // The endpoint's job could not be asked about from this shell: it counts as still running.
    expect(status.code).toBe(4);
  });
});
