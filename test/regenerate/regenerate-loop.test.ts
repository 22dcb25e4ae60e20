import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../lib/logger.ts';
import { InterruptedError } from '../../lib/errors.ts';
import { openRegenerateQueueStore } from '../../lib/store/regenerate-queue-store.ts';
import { withImageVersionStore } from '../../lib/store/image-version-store.ts';
import { resolveConfig } from '../../pipeline/config/load-config.ts';
import { runPipeline } from '../../pipeline/run-pipeline.ts';
import { addToRegenerateQueue, readRegenerateQueue } from '../../pipeline/regenerate/regenerate-queue.ts';
import { submitRegenerateBatch } from '../../pipeline/regenerate/submit-regenerate-batch.ts';
import { chooseVersion } from '../../pipeline/regenerate/choose-version.ts';
import { listImageVersions } from '../../pipeline/regenerate/list-image-versions.ts';
import { composeRegenerateRequest } from '../../pipeline/regenerate/compose-regenerate-prompt.ts';
import { readImageSidecar } from '../../stages/synthesize/image-sidecar.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { createCrashAtFirstWait } from '../support/crash-at-first-wait.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';

const root = join(import.meta.dirname, '..', '..');
const now = () => Date.UTC(2026, 11, 2, 14, 30);

/**
 * The artist's loop as a CLI would call it (the page calls the same functions), against the emulator over HTTP
 * through the real SDK: the queue in the workspace, a batch crashed after its job was created and then adopted, the
 * new versions, and a choice that `chargen run` keeps.
 */
describe('regenerate: the queue, its batches, versions and the choice', () => {
  let emulator: TestEmulator;
  let project: string;
  let config: ChargenConfig;
  let env: NodeJS.ProcessEnv;
  const logger = createMemoryLogger();
  // The executor's waits move the emulator's clock instead of sleeping: no test waits on real time.
  const advancing = { sleep: async (milliseconds: number) => emulator.clock.advance(milliseconds) };
  const stats = async () => (await emulator.stats()) as { batchesCreated: number; generateContentCalls: number };

  beforeAll(async () => {
    emulator = await startTestEmulator();
    project = await mkdtemp(join(tmpdir(), 'chargen-regenerate-'));
    for (const name of ['bard.png', 'knight.png']) await cp(join(root, 'input_images', name), join(project, 'input_images', name));
    const file = { path: join(project, 'chargen.config.json'), value: { compile: { imageConfig: { aspectRatio: '3:4', imageSize: '1K' } } } };
    await writeFile(file.path, JSON.stringify(file.value));
    config = resolveConfig({ file, env: {}, flags: {} });
    env = { GEMINI_API_KEY: 'regenerate-test-key', CHARGEN_BASE_URL: emulator.baseUrl };
    const summary = await runPipeline({ cwd: project, env, logger, config, yes: true, environment: advancing });
    expect(summary.exitCode, summary.message).toBe(0);
  });
  afterAll(async () => {
    await emulator?.close();
    await rm(project, { recursive: true, force: true });
  });

  it('keeps queued requests in the workspace database, each with its cost, across a restart', async () => {
    const added = await addToRegenerateQueue({ cwd: project, env, config, now, source: 'knight.png', variant: 1, edits: { prompt: 'A knight in green armour, standing in the rain.' } });
    expect(added.item.changes).toEqual(['prompt edited']);
    expect(added.item.cost.batchUsd).toBeGreaterThan(0);
    expect(added.item.cost.syncUsd).toBeCloseTo(added.item.cost.batchUsd * 2);
    await addToRegenerateQueue({ cwd: project, env, config, now, source: 'bard.png', variant: 1, edits: { seed: 4242, aspectRatio: '1:1' } });
    // A process that starts afresh (a restarted `chargen ui`) finds both, in order.
    const store = openRegenerateQueueStore({ workspaceDirectory: join(project, '.chargen'), now });
    try {
      expect(store.list().map((item) => [item.prompt.sourceImage.path, item.status])).toEqual([['knight.png', 'queued'], ['bard.png', 'queued']]);
      expect(store.list()[1]?.prompt.imageConfig.aspectRatio).toBe('1:1');
    } finally {
      store.close();
    }
    const view = await readRegenerateQueue({ cwd: project, env, config, now });
    expect(view.queued.count).toBe(2);
    expect(view.queued.batchUsd).toBeGreaterThan(added.item.cost.batchUsd);
  });

  it('composes a request from an edited field of the record, or from another shot, keeping the image it is a version of', async () => {
    const workspaceDirectory = join(project, '.chargen');
    const same = await composeRegenerateRequest({ cwd: project, workspaceDirectory, config, source: 'knight.png', variant: 1, edits: {} });
    expect(same.changes).toEqual(['same request again']);
    const clothing = await composeRegenerateRequest({ cwd: project, workspaceDirectory, config, source: 'knight.png', variant: 1, edits: { record: { clothing: 'a patched blue cloak over chain mail' } } });
    expect(clothing.prompt.prompt).toContain('Clothing: a patched blue cloak over chain mail.');
    expect(clothing.changes).toEqual(['record: clothing']);
    expect([clothing.entry, clothing.prompt.variant]).toEqual([same.entry, 1]);
    expect(clothing.requestKey).not.toBe(same.requestKey);
    const shots = { ...config, compile: { ...config.compile, variants: ['full figure', { name: 'action pose', prompt: 'mid-leap, sword raised', aspectRatio: '16:9' as const }] } };
    const action = await composeRegenerateRequest({ cwd: project, workspaceDirectory, config: shots, source: 'knight.png', variant: 1, edits: { shot: 'action pose', seed: 7 } });
    expect(action.prompt.prompt).toContain('mid-leap, sword raised');
    expect([action.prompt.imageConfig.aspectRatio, action.prompt.seed, action.prompt.shot, action.entry]).toEqual(['16:9', { value: 7, source: 'config' }, undefined, same.entry]);
  });

  it('adopts the job of a submit that crashed after creating it, and never creates a second', async () => {
    const before = (await stats()).batchesCreated;
    // The "crash": the first wait after the job exists stops the submit, as a kill would (its records are kept).
    const crash = createCrashAtFirstWait();
    await expect(submitRegenerateBatch({ cwd: project, env, config, now, logger, mode: 'batch', signal: crash.signal, environment: crash.environment })).rejects.toThrow(InterruptedError);
    expect((await stats()).batchesCreated).toBe(before + 1);
    const store = openRegenerateQueueStore({ workspaceDirectory: join(project, '.chargen'), now });
    try {
      expect(store.listSending().map((sending) => sending.items.length)).toEqual([2]);
    } finally {
      store.close();
    }

    // Nothing else is queued: the resumed batch is all there is to send.
    const outcomes = await submitRegenerateBatch({ cwd: project, env, config, now, logger, mode: 'batch', environment: advancing });
    expect(outcomes.map((outcome) => [outcome.made, outcome.failed])).toEqual([[2, 0]]);
    expect((await stats()).batchesCreated).toBe(before + 1);
  });

  it('keeps the run’s image and the new one as versions, each with its sidecar, and changes nothing in the output folder', async () => {
    const output = await readFile(join(project, 'final_characters', 'knight.jpg'));
    const versions = await listImageVersions({ cwd: project, config, now, source: 'knight.png', variant: 1 });
    expect(versions.map((version) => [version.image, version.label])).toEqual([
      ['knight-v1.jpg', expect.stringMatching(/^v1 · made by chargen run/)],
      ['knight-v2.jpg', expect.stringMatching(/^v2 · prompt edited/)],
    ]);
    expect(versions[1]?.prompt).toBe('A knight in green armour, standing in the rain.');
    // The character's versions, every shot of it (one here), side by side.
    expect((await listImageVersions({ cwd: project, config, now, source: 'knight.png' })).map((version) => version.image)).toEqual(['knight-v1.jpg', 'knight-v2.jpg']);
    const files = await readdir(join(project, '.chargen', 'versions'));
    expect(files).toEqual(expect.arrayContaining(['knight-v1.jpg', 'knight-v1.json', 'knight-v2.jpg', 'knight-v2.json', 'bard-v1.jpg', 'bard-v2.json']));
    expect(await readFile(join(project, 'final_characters', 'knight.jpg'))).toEqual(output);
    expect(await readFile(join(project, '.chargen', 'versions', 'knight-v1.jpg'))).toEqual(output);
  });

  it('places the chosen version in the output folder with its sidecar; a rerun keeps it and asks nothing for it', async () => {
    const [, second] = await listImageVersions({ cwd: project, config, now, source: 'knight.png', variant: 1 });
    const chosen = await chooseVersion({ cwd: project, config, now, version: second?.id ?? 0 });
    expect(chosen.image).toBe(join(project, 'final_characters', 'knight.jpg'));
    const bytes = await readFile(join(project, '.chargen', 'versions', 'knight-v2.jpg'));
    expect(await readFile(chosen.image)).toEqual(bytes);
    expect((await readImageSidecar(chosen.sidecar))?.key).toBe(second?.requestKey);

    const before = await stats();
    const rerun = await runPipeline({ cwd: project, env, logger, config, yes: true, from: 'synthesize', environment: advancing });
    expect(rerun.exitCode, rerun.message).toBe(0);
    expect(await readFile(join(project, 'final_characters', 'knight.jpg'))).toEqual(bytes);
    expect((await readImageSidecar(join(project, 'final_characters', 'knight.json')))?.prompt).toBe('A knight in green armour, standing in the rain.');
    const after = await stats();
    expect([after.batchesCreated - before.batchesCreated, after.generateContentCalls - before.generateContentCalls]).toEqual([0, 0]);
    // A plain run, and the dry run's plan, find nothing to do for it either.
    const plain = await runPipeline({ cwd: project, env, logger, config, yes: true, environment: advancing });
    expect(plain.exitCode, plain.message).toBe(0);
    const planned = await runPipeline({ cwd: project, env, logger, config, dryRun: true, from: 'synthesize' });
    expect(planned.plan?.synthesize.toSend).toBe(0);
    expect(await readFile(join(project, 'final_characters', 'knight.jpg'))).toEqual(bytes);
    const chosenNow = withImageVersionStore({ workspaceDirectory: join(project, '.chargen'), now }, (store) => store.chosen().get('knight.png#1'));
    expect(chosenNow?.version).toBe(second?.id);
  });
});
