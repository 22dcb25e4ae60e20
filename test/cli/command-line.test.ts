import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargenBinary, runNodeProcess, startEmulatorProcess } from '../support/chargen-process.ts';
import { createSamplePng } from '../support/sample-images.ts';

const root = join(import.meta.dirname, '..', '..');

describe('the command line reads as a user expects', () => {
  let project: string;
  let env: NodeJS.ProcessEnv;
  const chargen = (args: string[], extra: NodeJS.ProcessEnv = {}) => runNodeProcess({ cwd: project, args: [chargenBinary, ...args], env: { ...env, ...extra } });

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-cli-'));
    await mkdir(join(project, 'input_images'));
    await writeFile(join(project, 'input_images', 'bard.png'), createSamplePng('bard'));
    const { CHARGEN_BACKEND: _backend, ...inherited } = process.env;
    env = { ...inherited, GEMINI_API_KEY: '', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: '' };
  });
  afterAll(async () => {
    await rm(project, { recursive: true, force: true });
  });

  it('--version prints the version; bare chargen prints help, exit 0, no error', async () => {
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    const printed = await chargen(['--version']);
    expect([printed.code, printed.stdout.trim(), printed.stderr]).toEqual([0, version, '']);

    const bare = await chargen([]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain('Usage: chargen');
    expect(bare.stdout).toContain('run [options]');
    expect(`${bare.stdout}${bare.stderr}`).not.toMatch(/^error/m);
  });

  it('a reader that stops early (chargen --help | true) ends it quietly, with its exit code', async () => {
    const child = spawn(process.execPath, [chargenBinary, '--help'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit');
    // Closed before chargen writes a byte: every write it makes meets a closed pipe.
    child.stdout.destroy();
    const [code] = (await exited) as [number | null];
    expect([code, stderr]).toEqual([0, '']);
  });

  it('a mistyped command or flag says so once, with exit 2', async () => {
    for (const args of [['bogus'], ['run', '--bogus'], ['jobs', 'cancel']]) {
      const result = await chargen(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).not.toContain('error: error:');
      expect(result.stderr.split('\n').filter((line) => line.startsWith('error:')), args.join(' ')).toHaveLength(1);
    }
  });

  it('one image reads "1 image"; money reads as money', async () => {
    const dry = await chargen(['run', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('analyze: 1 item,');
    expect(dry.stdout).toMatch(/about \$0\.002\b/);
    const run = await chargen(['run']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('1 image in final_characters');
    expect(run.stdout).not.toMatch(/\b1 (images|items|requests|prompts)\b/);
    const again = await chargen(['run', '--dry-run']);
    expect(again.stdout).not.toContain('$0.000');
    expect(again.stdout).not.toMatch(/\b0 to send in 0 batch jobs\b/);
  });

  it('jobs cancel takes the id with or without batches/, and the display name jobs list shows', async () => {
    const emulator = await startEmulatorProcess({ pendingMilliseconds: 600_000, runningMilliseconds: 1_000 });
    const withKey = { GEMINI_API_KEY: 'test-key-cancel', CHARGEN_BASE_URL: emulator.baseUrl };
    try {
      for (const [workdir, pick] of [
        ['.chargen-by-id', (job: { name: string }) => job.name.slice('batches/'.length)],
        ['.chargen-by-display-name', (job: { displayName: string }) => job.displayName],
      ] as const) {
        const detached = await chargen(['run', '--detach', '--workdir', workdir], withKey);
        expect(detached.code, detached.stderr).toBe(4);
        const listed = await chargen(['jobs', 'list', '--workdir', workdir, '--json'], withKey);
        const [job] = (JSON.parse(listed.stdout) as { jobs: { name: string; displayName: string }[] }).jobs;
        expect(job).toBeDefined();
        const cancelled = await chargen(['jobs', 'cancel', pick(job as { name: string; displayName: string }), '--workdir', workdir], withKey);
        expect(cancelled.code, cancelled.stderr).toBe(0);
        expect(cancelled.stdout).toContain(job?.name);
      }
    } finally {
      await emulator.stop();
    }
  });
});
