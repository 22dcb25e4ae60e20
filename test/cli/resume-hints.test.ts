import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargenBinary, runAndInterrupt, runNodeProcess, startEmulatorProcess } from '../support/chargen-process.ts';
import { createSamplePng } from '../support/sample-images.ts';

// A project laid out unlike the defaults: every hint must repeat the flags that find it.
const where = ['--input', 'pics', '--out', 'art', '--workdir', 'ws', '--config', 'my config.json'];
const repeated = "--input pics --out art --workdir ws --config 'my config.json'";

describe('hints repeat the user\'s own flags, and say only what is true', () => {
  let project: string;
  let env: NodeJS.ProcessEnv;
  const chargen = (args: string[], extra: NodeJS.ProcessEnv = {}) => runNodeProcess({ cwd: project, args: [chargenBinary, ...args], env: { ...env, ...extra } });

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-hints-'));
    await mkdir(join(project, 'pics'));
    for (const name of ['bard', 'mage']) await writeFile(join(project, 'pics', `${name}.png`), createSamplePng(name));
    await writeFile(join(project, 'my config.json'), '{}');
    const { CHARGEN_BACKEND: _backend, ...inherited } = process.env;
    env = { ...inherited, GEMINI_API_KEY: '', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: '' };
  });
  afterAll(async () => {
    await rm(project, { recursive: true, force: true });
  });

  it('Ctrl-C on the built-in emulator repeats the flags; status then reports the job gone, not running', async () => {
    const { code, stdout, stderr } = await runAndInterrupt({ args: ['run', ...where, '--poll-interval', '200'], cwd: project, env, when: (line) => line.includes('submitted') });
    expect(code, stderr).toBe(4);
    expect(stdout).toContain(`chargen run ${repeated}`);
    // The built-in emulator's jobs end with the process: nothing keeps running.
    expect(stdout).not.toContain('keep running');

    const status = await chargen(['status', '--workdir', 'ws', '--config', 'my config.json', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { jobs: { state: string }[] }).jobs).toEqual([expect.objectContaining({ state: 'gone' })]);
    const human = await chargen(['status', '--workdir', 'ws', '--config', 'my config.json']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('gone');
    expect(human.stdout).not.toContain('still running');
  });

  it('--only with a stale upstream names the command to run with the same flags', async () => {
    const stale = await chargen(['run', ...where, '--only', 'synthesize']);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toContain(`chargen run --from compile ${repeated}`);
  });

  it('"run again to retry" only when a failure can be mended by trying again', async () => {
    await writeFile(join(project, 'pics', 'broken.png'), 'not a picture');
    try {
      const run = await chargen(['run', ...where]);
      expect(run.code, run.stderr).toBe(3);
      expect(run.stdout).toContain('broken.png');
      expect(run.stdout).not.toMatch(/run again|retry/i);
    } finally {
      await rm(join(project, 'pics', 'broken.png'));
    }
  });

  it('a retryable failure says to run again, with the flags', async () => {
    const faults = join(project, 'faults.json');
    await writeFile(faults, JSON.stringify({ lineErrorRate: 1 }));
    const emulator = await startEmulatorProcess({ pendingMilliseconds: 20, runningMilliseconds: 20, faultsPath: faults });
    try {
      await writeFile(join(project, 'one-round.json'), JSON.stringify({ gemini: { maxRounds: 1 } }));
      const run = await chargen(['run', '--input', 'pics', '--workdir', 'ws-faults', '--config', 'one-round.json', '--yes'], { GEMINI_API_KEY: 'test-key-hints', CHARGEN_BASE_URL: emulator.baseUrl });
      expect(run.code, run.stderr).toBe(3);
      expect(run.stdout).toContain('chargen run --input pics --workdir ws-faults --config one-round.json');
      expect(run.stdout).toMatch(/trying again can mend them: run `chargen run --input pics --workdir ws-faults --config one-round.json`/);
    } finally {
      await emulator.stop();
    }
  });
});
