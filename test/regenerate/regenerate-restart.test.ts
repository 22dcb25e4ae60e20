import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InterruptedError } from '../../lib/errors.ts';
import { createMemoryLogger } from '../../lib/logger.ts';
import { startUiServer, type RunningUi } from '../../pipeline/cli/ui-command.ts';
import { resolveConfig } from '../../pipeline/config/load-config.ts';
import { addToRegenerateQueue } from '../../pipeline/regenerate/regenerate-queue.ts';
import { submitRegenerateBatch } from '../../pipeline/regenerate/submit-regenerate-batch.ts';
import { runPipeline } from '../../pipeline/run-pipeline.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { createCrashAtFirstWait } from '../support/crash-at-first-wait.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';

const root = join(import.meta.dirname, '..', '..');
const now = () => Date.UTC(2026, 11, 2, 15);

interface View {
  items: { status: string }[];
  batches: { status: string; message?: string }[];
}

/** A batch a crash left being sent is taken up by the next `chargen ui` on its own: its job adopted, none created. */
describe('regenerate: a restarted chargen ui', () => {
  let emulator: TestEmulator;
  let project: string;
  let config: ChargenConfig;
  let env: NodeJS.ProcessEnv;
  let ui: RunningUi | undefined;
  const logger = createMemoryLogger();

  beforeAll(async () => {
    emulator = await startTestEmulator();
    project = await mkdtemp(join(tmpdir(), 'chargen-regenerate-restart-'));
    await cp(join(root, 'input_images', 'rogue.png'), join(project, 'input_images', 'rogue.png'));
    const file = { path: join(project, 'chargen.config.json'), value: { compile: { imageConfig: { aspectRatio: '3:4', imageSize: '1K' } }, gemini: { pollInitialMilliseconds: 50, pollMaxMilliseconds: 200 } } };
    await writeFile(file.path, JSON.stringify(file.value));
    config = resolveConfig({ file, env: {}, flags: {} });
    env = { GEMINI_API_KEY: 'regenerate-restart-key', CHARGEN_BASE_URL: emulator.baseUrl };
    const advancing = { sleep: async (milliseconds: number) => emulator.clock.advance(milliseconds) };
    const summary = await runPipeline({ cwd: project, env, logger, config, yes: true, environment: advancing });
    expect(summary.exitCode, summary.message).toBe(0);
  });
  afterAll(async () => {
    await ui?.close();
    await emulator?.close();
    await rm(project, { recursive: true, force: true });
  });

  it('adopts the job of the batch a crash left, and makes its version', async () => {
    await addToRegenerateQueue({ cwd: project, env, config, now, source: 'rogue.png', variant: 1, edits: { seed: 12 } });
    const crash = createCrashAtFirstWait();
    await expect(submitRegenerateBatch({ cwd: project, env, config, now, logger, mode: 'batch', signal: crash.signal, environment: crash.environment })).rejects.toThrow(InterruptedError);
    const created = (await emulator.stats())['batchesCreated'];
    // The job ends on the emulator while no chargen follows it.
    emulator.clock.advance(10_000);

    ui = await startUiServer({ cwd: project, env, config, logger, port: 0, refreshMilliseconds: 50 });
    let view: View | undefined;
    for (let attempt = 0; attempt < 300 && view?.batches[0]?.status !== 'done'; attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      view = (await (await fetch(new URL('/api/regenerate', ui.url))).json()) as View;
    }
    expect(view?.batches.map((batch) => [batch.status, batch.message])).toEqual([['done', '1 of 1 image made (batch 1)']]);
    expect(view?.items.map((item) => item.status)).toEqual(['done']);
    expect((await emulator.stats())['batchesCreated']).toBe(created);
  });
});
