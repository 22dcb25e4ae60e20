import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargenBinary, runNodeProcess, startEmulatorProcess, type EmulatorProcess } from '../support/chargen-process.ts';
import { createSamplePng } from '../support/sample-images.ts';
import { findClosedPort, startDroppingProxy } from '../support/start-dropping-proxy.ts';

const apiKey = 'test-key-no-network-7d1e';
const exists = (path: string) => access(path).then(() => true, () => false);
const errorLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('error:'));

describe('with a key and no network', () => {
  let project: string;
  let emulator: EmulatorProcess;
  const chargen = (baseUrl: string, ...args: string[]) =>
    runNodeProcess({ cwd: project, args: [chargenBinary, ...args], env: { ...process.env, GEMINI_API_KEY: apiKey, GOOGLE_API_KEY: '', CHARGEN_BASE_URL: baseUrl } });

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'chargen-offline-'));
    await mkdir(join(project, 'input_images'));
    for (const name of ['bard', 'mage', 'rogue']) await writeFile(join(project, 'input_images', `${name}.png`), createSamplePng(name));
    emulator = await startEmulatorProcess({ pendingMilliseconds: 20, runningMilliseconds: 20 });
  });
  afterAll(async () => {
    await emulator.stop();
    await rm(project, { recursive: true, force: true });
  });

  it('run and jobs list each say in one line that the API cannot be reached, and where', async () => {
    const port = await findClosedPort();
    const run = await chargen(`http://127.0.0.1:${port}`, 'run', '--yes');
    expect(run.code, run.stderr).toBe(1);
    expect(errorLines(run.stderr)).toEqual([expect.stringMatching(new RegExp(`cannot reach .*127\\.0\\.0\\.1:${port}`, 'i'))]);
    expect(await exists(join(project, 'final_characters'))).toBe(false);

    const listed = await chargen(`http://127.0.0.1:${port}`, 'jobs', 'list');
    expect(listed.code, listed.stderr).toBe(1);
    expect(errorLines(listed.stderr)).toEqual([expect.stringMatching(new RegExp(`cannot reach .*127\\.0\\.0\\.1:${port}`, 'i'))]);
    expect(run.stderr).not.toContain(apiKey);
  });

  it('the network gone after the model check: one line, not a failure per image, and no empty contact sheet', async () => {
    const proxy = await startDroppingProxy({ target: emulator.baseUrl, drops: (request) => (request.url ?? '').startsWith('/upload/') });
    try {
      const run = await chargen(proxy.baseUrl, 'run', '--yes', '--workdir', '.chargen-dropped', '--out', 'dropped');
      expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
      expect(run.stdout).not.toContain('failed (analyze)');
      expect(errorLines(run.stderr)).toEqual([expect.stringMatching(new RegExp(`cannot reach .*${proxy.baseUrl.slice('http://'.length)}`, 'i'))]);
      expect(await exists(join(project, 'dropped', 'index.html'))).toBe(false);
    } finally {
      await proxy.close();
    }
  });
});
