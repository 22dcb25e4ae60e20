import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../pipeline/config/load-config.ts';
import { createMemoryLogger, type Logger, type ProgressEvent } from '../../lib/logger.ts';
import { runPipeline } from '../../pipeline/run-pipeline.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';

/** What a progress bar would show after each event, folded independently of the terminal logger's own code. */
interface Snapshot {
  stage: string;
  done: number;
  total: number;
  job?: string;
}

function recordProgress(): Logger & { snapshots: Snapshot[] } {
  const logger = createMemoryLogger();
  const snapshots: Snapshot[] = [];
  const stages = new Map<string, { done: number; total: number }>();
  return Object.assign(logger, {
    snapshots,
    progress(event: ProgressEvent) {
      // A stage's closing line moves no bar.
      if (event.summary !== undefined) return;
      const stage = stages.get(event.stage) ?? { done: 0, total: 0 };
      if (event.total !== undefined) stage.total = event.total;
      if (event.done !== undefined) stage.done = event.done;
      stage.done += (event.answered ?? 0) + (event.withoutRequest ?? 0);
      stages.set(event.stage, stage);
      snapshots.push({ stage: event.stage, done: stage.done, total: stage.total, ...(event.job ? { job: event.job.state } : {}) });
    },
  });
}

const imageConfig = { aspectRatio: '3:4', imageSize: '1K' };

describe('progress events of the model stages', () => {
  let emulator: TestEmulator;
  const projects: string[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator({ latency: { pendingMilliseconds: 0, runningMilliseconds: 0 } });
  });
  afterAll(async () => {
    await emulator.close();
    for (const project of projects) await rm(project, { recursive: true, force: true });
  });

  /** A project of the six sample images with this config; each call runs the pipeline on it and records the events. */
  const createProject = async (value: object) => {
    const project = await mkdtemp(join(tmpdir(), 'chargen-progress-'));
    projects.push(project);
    await cp(join(import.meta.dirname, '..', '..', 'input_images'), join(project, 'input_images'), { recursive: true });
    const file = { path: join(project, 'chargen.config.json'), value };
    await writeFile(file.path, JSON.stringify(value));
    return async (options: { from?: 'analyze' } = {}) => {
      const logger = recordProgress();
      const config = resolveConfig({ file, env: {}, flags: {} });
      const summary = await runPipeline({ cwd: project, env: { GEMINI_API_KEY: 'dummy', CHARGEN_BASE_URL: emulator.baseUrl }, logger, config, yes: true, ...options });
      expect(summary.exitCode, summary.message).toBe(0);
      return (stage: string) => logger.snapshots.filter((snapshot) => snapshot.stage === stage);
    };
  };

  it('count items as each job is read, in analyze and synthesize alike, with the total known before the first job; a rerun counts what earlier runs answered at once', async () => {
    // Two lines a job, one job at a time: six images make three jobs a stage, read one after another.
    const run = await createProject({ compile: { imageConfig }, gemini: { chunkMaxLines: 2, maxJobsInFlight: 1, pollInitialMilliseconds: 1, pollMaxMilliseconds: 1 } });
    const first = await run();
    for (const stage of ['analyze', 'synthesize']) {
      const snapshots = first(stage);
      const firstJob = snapshots.findIndex((snapshot) => snapshot.job !== undefined);
      const lastJob = snapshots.findLastIndex((snapshot) => snapshot.job !== undefined);
      expect(firstJob, stage).toBeGreaterThan(0);
      // The bar is there, at 0 of 6, while the first job waits.
      expect(snapshots[firstJob], stage).toMatchObject({ done: 0, total: 6 });
      // While later jobs still run, the answers of the earlier ones are counted: 2, then 4 of 6.
      const whileJobsRun = snapshots.slice(firstJob, lastJob + 1).map((snapshot) => snapshot.done);
      expect(whileJobsRun, stage).toEqual(expect.arrayContaining([0, 2, 4]));
      expect(Math.max(...whileJobsRun), stage).toBe(4);
      expect(snapshots.at(-1), stage).toMatchObject({ done: 6, total: 6 });
      // Never more than the total, never backwards.
      const dones = snapshots.map((snapshot) => snapshot.done);
      expect(dones, stage).toEqual([...dones].sort((left, right) => left - right));
      expect(Math.max(...dones), stage).toBe(6);
    }

    // Again from analyze: every answer is in the workspace, every image made; both bars are full, with no job.
    const again = await run({ from: 'analyze' });
    for (const stage of ['analyze', 'synthesize']) {
      const snapshots = again(stage);
      expect(snapshots.some((snapshot) => snapshot.job !== undefined), stage).toBe(false);
      expect(snapshots.at(-1), stage).toMatchObject({ done: 6, total: 6 });
      expect(Math.max(...snapshots.map((snapshot) => snapshot.done)), stage).toBe(6);
    }
  });

  it('count each answer as it comes in sync mode, from 0 of 6 to 6 of 6, in both model stages', async () => {
    const run = await createProject({ mode: 'sync', compile: { imageConfig } });
    const snapshots = await run();
    for (const stage of ['analyze', 'synthesize']) expect(snapshots(stage).map((snapshot) => snapshot.done), stage).toEqual([0, 1, 2, 3, 4, 5, 6, 6]);
  });
});
