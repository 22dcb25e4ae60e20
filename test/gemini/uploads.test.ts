import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultRetryPolicy } from '../../lib/gemini/call-with-retry.ts';
import { createGeminiClient } from '../../lib/gemini/create-gemini-client.ts';
import { uploadFiles, type UploadCandidate } from '../../lib/gemini/upload-files.ts';
import { openUploadRegistry } from '../../lib/gemini/upload-registry.ts';
import { geminiSettingsSchema } from '../../schemas/gemini-settings.ts';
import { computeRequiredUploadLifetime } from '../../lib/gemini/apply-gemini-settings.ts';
import { createGeminiFixture, type GeminiFixture } from '../support/gemini-fixture.ts';
import { createSamplePng } from '../support/sample-images.ts';
import { testApiKey } from '../support/start-test-emulator.ts';

let fixture: GeminiFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const hour = 3600 * 1000;

async function writeImages(directory: string, names: string[]): Promise<UploadCandidate[]> {
  await mkdir(directory, { recursive: true });
  return Promise.all(
    names.map(async (name) => {
      const bytes = createSamplePng(name.replace(/-copy$/, ''));
      const path = join(directory, `${name}.png`);
      await writeFile(path, bytes);
      return { path, sha256: createHash('sha256').update(bytes).digest('hex'), mimeType: 'image/png', sizeBytes: bytes.length };
    }),
  );
}

describe('uploadFiles', () => {
  it('uploads each distinct content once, reuses it on the next run, and uploads again once it nears expiry', async () => {
    fixture = await createGeminiFixture();
    const current = fixture;
    const client = createGeminiClient({ apiKey: testApiKey, baseUrl: current.emulator.baseUrl });
    const candidates = await writeImages(join(current.workspaceDirectory, 'images'), ['elf', 'orc', 'elf-copy']);
    const run = async () => {
      const registry = await openUploadRegistry({ stateDirectory: current.workspaceDirectory, requiredLifetimeMilliseconds: 2 * hour });
      try {
        return await uploadFiles({
          client,
          registry,
          candidates,
          concurrency: 8,
          now: () => current.emulator.clock.now(),
          retry: { policy: defaultRetryPolicy, environment: current.environment },
        });
      } finally {
        await registry.close();
      }
    };

    const first = await run();
    expect(first.size).toBe(2);
    expect([...first.values()].every((outcome) => outcome.status === 'uploaded' && !outcome.reused)).toBe(true);
    expect((await current.emulator.stats())['uploads']).toBe(2);

    const second = await run();
    expect([...second.values()].every((outcome) => outcome.status === 'uploaded' && outcome.reused)).toBe(true);
    expect((await current.emulator.stats())['uploads']).toBe(2);

    // 46 h 1 min later the files have less than the 2 h margin left: upload again, and record the new ones.
    current.emulator.clock.advance(46 * hour + 60_000);
    const third = await run();
    expect([...third.values()].every((outcome) => outcome.status === 'uploaded' && !outcome.reused)).toBe(true);
    expect((await current.emulator.stats())['uploads']).toBe(4);
    const firstName = [...first.values()][0];
    const thirdName = [...third.values()][0];
    expect(firstName?.status === 'uploaded' && thirdName?.status === 'uploaded' && firstName.file.name !== thirdName.file.name).toBe(true);
  });

  it('reuses an upload for a batch job only if it outlives the job deadline plus the margin; a sync call needs the margin alone', async () => {
    fixture = await createGeminiFixture();
    const current = fixture;
    const client = createGeminiClient({ apiKey: testApiKey, baseUrl: current.emulator.baseUrl });
    const candidates = await writeImages(join(current.workspaceDirectory, 'images'), ['ranger']);
    const settings = geminiSettingsSchema.parse({});
    expect(computeRequiredUploadLifetime({ settings, mode: 'batch' })).toBe(26 * hour);
    const run = async (mode: 'batch' | 'sync') => {
      const registry = await openUploadRegistry({ stateDirectory: current.workspaceDirectory, requiredLifetimeMilliseconds: computeRequiredUploadLifetime({ settings, mode }) });
      try {
        const outcomes = await uploadFiles({ client, registry, candidates, concurrency: 1, now: () => current.emulator.clock.now(), retry: { policy: defaultRetryPolicy, environment: current.environment } });
        const [outcome] = outcomes.values();
        return outcome?.status === 'uploaded' && outcome.reused;
      } finally {
        await registry.close();
      }
    };
    expect(await run('batch')).toBe(false);
    // 21 h later the file has 27 h left: enough for a 24 h job and the 2 h margin.
    current.emulator.clock.advance(21 * hour);
    expect(await run('batch')).toBe(true);
    // 23 h after upload it has 25 h left: a job made now could outlive it, so the batch run uploads again...
    current.emulator.clock.advance(2 * hour);
    expect(await run('sync')).toBe(true);
    expect(await run('batch')).toBe(false);
    expect((await current.emulator.stats())['uploads']).toBe(2);
  });

  it('retries uploads through 429s and 503s', async () => {
    fixture = await createGeminiFixture({ faults: { seed: 'uploads', endpoints: { 'files.upload': { rate429: 0.3, rate503: 0.2 } } } });
    const current = fixture;
    const client = createGeminiClient({ apiKey: testApiKey, baseUrl: current.emulator.baseUrl });
    const candidates = await writeImages(join(current.workspaceDirectory, 'images'), Array.from({ length: 12 }, (_unused, index) => `hero-${index}`));
    const registry = await openUploadRegistry({ stateDirectory: current.workspaceDirectory, requiredLifetimeMilliseconds: 2 * hour });
    const outcomes = await uploadFiles({
      client,
      registry,
      candidates,
      concurrency: 4,
      now: () => current.emulator.clock.now(),
      retry: { policy: { attempts: 10, initialDelayMilliseconds: 10, maxDelayMilliseconds: 100 }, environment: current.environment },
    });
    await registry.close();
    expect([...outcomes.values()].filter((outcome) => outcome.status === 'uploaded')).toHaveLength(12);
    const injected = (await current.emulator.stats())['faultsInjected'] as Record<string, number>;
    expect((injected['429:files.upload'] ?? 0) + (injected['503:files.upload'] ?? 0)).toBeGreaterThan(0);
  });
});
