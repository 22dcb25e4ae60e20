import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNodeProcess, startEmulatorProcess, type EmulatorProcess } from '../support/chargen-process.ts';
import { inspectImage } from '../../lib/media/inspect-image.ts';
import { createSampleJpeg, createSamplePng } from '../support/sample-images.ts';

const root = join(import.meta.dirname, '..', '..');

/**
 * batch-client.mjs was written by someone who never read the emulator, from the SDK's docs alone: it uploads
 * images, runs an analysis batch from a JSONL file and an inline image batch, polls and downloads. It must work
 * from start to end against `chargen emulator`.
 */
describe('an SDK client written without reading the emulator', () => {
  let workDirectory: string;
  let emulator: EmulatorProcess;
  let baseUrl = '';

  beforeAll(async () => {
    workDirectory = await mkdtemp(join(tmpdir(), 'chargen-external-client-'));
    emulator = await startEmulatorProcess({ pendingMilliseconds: 100, runningMilliseconds: 100 });
    baseUrl = emulator.baseUrl;
  });
  afterAll(async () => {
    await emulator.stop();
    await rm(workDirectory, { recursive: true, force: true });
  });

  it('uploads, analyses, generates, polls and downloads from start to end', async () => {
    const images = join(workDirectory, 'images');
    const output = join(workDirectory, 'out');
    await mkdir(images, { recursive: true });
    await writeFile(join(images, 'paladin.png'), createSamplePng('paladin'));
    await writeFile(join(images, 'witch.png'), createSamplePng('witch', { width: 120, height: 80 }));
    await writeFile(join(images, 'pirate.jpg'), createSampleJpeg({ width: 300, height: 200 }));

    const { code, stdout, stderr } = await runNodeProcess({
      args: [join(root, 'test', 'external-client', 'batch-client.mjs'), images, output],
      env: { ...process.env, GEMINI_API_KEY: 'any-key', GOOGLE_API_KEY: '', GOOGLE_GEMINI_BASE_URL: baseUrl, POLL_MS: '50', TIMEOUT_MS: '60000' },
    });
    const transcript = `${stdout}${stderr}`;
    expect(code, transcript).toBe(0);

    // gemini-3-pro-image answers JPEG, as the real model does.
    const written = (await readdir(output)).filter((name) => name.endsWith('.jpg')).sort();
    expect(written).toHaveLength(3);
    for (const name of written) {
      expect(inspectImage(await readFile(join(output, name)))).toMatchObject({ ok: true, format: 'jpeg', width: 896, height: 1200 });
    }
    const stats = (await (await fetch(`${baseUrl}/_emulator/stats`)).json()) as { batchesCreated: number; uploads: number };
    expect(stats.batchesCreated).toBe(2);
    expect(stats.uploads).toBe(4);
  });
});
