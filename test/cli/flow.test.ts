import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../pipeline/config/load-config.ts';
import { createMemoryLogger } from '../../lib/logger.ts';
import { runPipeline } from '../../pipeline/run-pipeline.ts';
import { createEmulatorAdmin, type ListedJob } from '../support/emulator-admin.ts';
import { createSamplePng } from '../support/sample-images.ts';
import { startTestEmulator, testApiKey, type TestEmulator } from '../support/start-test-emulator.ts';

const names = ['bard', 'cleric', 'druid', 'fighter', 'monk', 'paladin', 'rogue', 'wizard'];
/** Two images a chunk: four chunks, each with its own analysis job and its own synthesis job. */
const config = { gemini: { chunkMaxLines: 2, pollInitialMilliseconds: 5, pollMaxMilliseconds: 20 } };

let emulator: TestEmulator | undefined;
const projects: string[] = [];
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  for (const project of projects.splice(0)) await rm(project, { recursive: true, force: true });
});

async function createProject(value: object = config): Promise<{ project: string; output: string; value: object }> {
  const project = await mkdtemp(join(tmpdir(), 'chargen-flow-'));
  projects.push(project);
  await mkdir(join(project, 'input_images'));
  for (const name of names) await writeFile(join(project, 'input_images', `${name}.png`), createSamplePng(name));
  await writeFile(join(project, 'chargen.config.json'), JSON.stringify(value));
  return { project, output: join(project, 'final_characters'), value };
}

function run(options: { project: string; baseUrl: string; signal?: AbortSignal; value?: object; from?: 'analyze' | 'compile'; only?: 'analyze' | 'compile' | 'synthesize'; detach?: boolean }) {
  const file = { path: join(options.project, 'chargen.config.json'), value: options.value ?? config };
  const logger = createMemoryLogger();
  const summary = runPipeline({
    cwd: options.project,
    env: { GEMINI_API_KEY: testApiKey, CHARGEN_BASE_URL: options.baseUrl },
    logger,
    config: resolveConfig({ file, env: {}, flags: {} }),
    yes: true,
    // The emulator's clock is the test's: files it makes expire 48 h after its now, not the machine's.
    environment: { now: () => (emulator as TestEmulator).clock.now() },
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.from ? { from: options.from } : {}),
    ...(options.only ? { only: options.only } : {}),
    ...(options.detach ? { detach: true } : {}),
  });
  return { summary, logger };
}

async function listImages(output: string): Promise<string[]> {
  const files = await readdir(output).catch(() => []);
  return files.filter((file) => file.endsWith('.jpg')).sort();
}

/** Jobs by chunk (their displayName without the attempt): a chunk with two jobs would pay for its lines twice. */
function groupByChunk(jobs: readonly ListedJob[]): Map<string, ListedJob[]> {
  const byChunk = new Map<string, ListedJob[]>();
  for (const job of jobs) {
    const chunk = job.displayName.replace(/-\d+$/, '');
    byChunk.set(chunk, [...(byChunk.get(chunk) ?? []), job]);
  }
  return byChunk;
}

/** Bytes of images the emulator's Files API holds now. */
async function measureHeldImageBytes(test: TestEmulator): Promise<number> {
  const pager = await test.client.files.list({ config: { pageSize: 100 } });
  let bytes = 0;
  for await (const file of pager) if (file.mimeType?.startsWith('image/')) bytes += Number(file.sizeBytes ?? 0);
  return bytes;
}

/** Watches the images the Files API holds until stopped; resolves with the most held at once. */
function watchHeldImageBytes(test: TestEmulator): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const watching = (async () => {
    while (running) {
      peak = Math.max(peak, await measureHeldImageBytes(test));
      await sleep(5);
    }
  })();
  return {
    async stop() {
      running = false;
      await watching;
      return peak;
    },
  };
}

describe('chunks flow through the stages', () => {
  it('a chunk whose analysis job is stuck PENDING holds only its own images: the other chunks are analysed, compiled and made', async () => {
    emulator = await startTestEmulator({ latency: { pendingMilliseconds: 0, runningMilliseconds: 0 }, faults: { jobOutcomes: [{ outcome: 'STUCK_PENDING', displayNameContains: '-analyze-', count: 1 }] } });
    const { project, output } = await createProject();
    const controller = new AbortController();
    const { summary, logger } = run({ project, baseUrl: emulator.baseUrl, signal: controller.signal });
    let images: string[] = [];
    for (let waited = 0; waited < 20_000 && images.length < 6; waited += 100) {
      await sleep(100);
      images = await listImages(output);
    }
    // A moment more: the stuck chunk's images must not come.
    await sleep(500);
    images = await listImages(output);
    controller.abort();
    const outcome = await summary;
    const log = logger.lines.map((line) => line.text).join('\n');
    expect(images, log).toHaveLength(6);
    expect(outcome.status, outcome.message).toBe('interrupted');

    const jobs = await createEmulatorAdmin(emulator.baseUrl).listBatchJobs(testApiKey);
    const byChunk = groupByChunk(jobs);
    expect([...byChunk.values()].filter((listed) => listed.length > 1)).toEqual([]);
    const analysis = jobs.filter((job) => job.displayName.includes('-analyze-'));
    expect(analysis).toHaveLength(4);
    expect(analysis.filter((job) => /PENDING/.test(job.state)), JSON.stringify(analysis)).toHaveLength(1);
    expect(jobs.filter((job) => job.displayName.includes('-synthesize-'))).toHaveLength(3);
  });

  it('a run without faults makes every image through one job per chunk and stage; a rerun sends nothing', async () => {
    emulator = await startTestEmulator({ latency: { pendingMilliseconds: 0, runningMilliseconds: 0 } });
    const { project, output } = await createProject();
    const first = await run({ project, baseUrl: emulator.baseUrl }).summary;
    expect(first.exitCode, first.message).toBe(0);
    expect(await listImages(output)).toEqual(names.map((name) => `${name}.jpg`));
    expect(first.stages).toMatchObject({ analyze: { status: 'done', succeeded: 8 }, compile: { status: 'done', total: 8 }, synthesize: { status: 'done', succeeded: 8, requestsSent: 8 } });
    const jobs = await createEmulatorAdmin(emulator.baseUrl).listBatchJobs(testApiKey);
    expect(groupByChunk(jobs).size).toBe(8);
    expect(jobs).toHaveLength(8);
    const stats = await emulator.stats();

    const second = await run({ project, baseUrl: emulator.baseUrl }).summary;
    expect(second.exitCode, second.message).toBe(0);
    expect(second.stages).toMatchObject({ analyze: { status: 'skipped' }, compile: { status: 'skipped' }, synthesize: { status: 'skipped' } });
    expect(await emulator.stats()).toEqual(stats);
  });

  it('holds at most gemini.storageBudgetBytes of images on the Files API, deletes a chunk\'s uploads once its jobs are done, and a rerun from analyze uploads nothing again', async () => {
    emulator = await startTestEmulator({ latency: { pendingMilliseconds: 0, runningMilliseconds: 0 } });
    const largest = Math.max(...names.map((name) => createSamplePng(name).length));
    // Half the budget a chunk: two images each, whatever chunkMaxLines allows.
    const storageBudgetBytes = Math.max(1024, 4 * largest);
    const { project, output, value } = await createProject({ gemini: { ...config.gemini, chunkMaxLines: 8, storageBudgetBytes } });
    const held = watchHeldImageBytes(emulator);
    const first = await run({ project, baseUrl: emulator.baseUrl, value }).summary;
    const peak = await held.stop();
    expect(first.exitCode, first.message).toBe(0);
    expect(await listImages(output)).toHaveLength(names.length);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(storageBudgetBytes);
    expect(await measureHeldImageBytes(emulator)).toBe(0);
    const jobs = await createEmulatorAdmin(emulator.baseUrl).listBatchJobs(testApiKey);
    expect(jobs.filter((job) => job.displayName.includes('-synthesize-')).length).toBeGreaterThanOrEqual(Math.ceil((names.length * largest) / (storageBudgetBytes / 2)));

    const uploadsBefore = (await emulator.stats())['uploads'];
    const again = await run({ project, baseUrl: emulator.baseUrl, value, from: 'analyze' }).summary;
    expect(again.exitCode, again.message).toBe(0);
    expect(again.stages).toMatchObject({ analyze: { requestsSent: 0 }, synthesize: { requestsSent: 0 } });
    expect((await emulator.stats())['uploads']).toBe(uploadsBefore);
  });

  it.each([
    { command: 'run', from: undefined, only: false },
    { command: 'run --from compile', from: 'compile' as const, only: false },
    { command: 'run --only synthesize', from: undefined, only: true },
  ])('after a compile change (analyses all answered), `$command` goes chunk by chunk within the storage budget', async ({ from, only }) => {
    emulator = await startTestEmulator({ latency: { pendingMilliseconds: 0, runningMilliseconds: 0 } });
    const sizes = names.map((name) => createSamplePng(name).length);
    const total = sizes.reduce((sum, size) => sum + size, 0);
    // Half of every reference: the stage uploading them all at once would pass it.
    const storageBudgetBytes = Math.max(2 * Math.max(...sizes), Math.ceil(total / 2));
    const gemini = { ...config.gemini, chunkMaxLines: 8, storageBudgetBytes };
    const { project, output } = await createProject({ gemini });
    const first = await run({ project, baseUrl: emulator.baseUrl, value: { gemini } }).summary;
    expect(first.exitCode, first.message).toBe(0);

    // Another seed: the same analyses, new prompts, every image asked again (its references uploaded again).
    const changed = { gemini, compile: { seed: 7 } };
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify(changed));
    const jobsBefore = new Set((await createEmulatorAdmin(emulator.baseUrl).listBatchJobs(testApiKey)).map((job) => job.name));
    const held = watchHeldImageBytes(emulator);
    if (only) expect((await run({ project, baseUrl: emulator.baseUrl, value: changed, only: 'compile' }).summary).exitCode).toBe(0);
    const again = await run({ project, baseUrl: emulator.baseUrl, value: changed, ...(from ? { from } : {}), ...(only ? { only: 'synthesize' as const } : {}) }).summary;
    const peak = await held.stop();
    expect(again.exitCode, again.message).toBe(0);
    expect(again.stages).toMatchObject({ analyze: { status: only ? 'not-run' : 'skipped', requestsSent: 0 }, synthesize: { requestsSent: names.length } });
    expect(await listImages(output)).toHaveLength(names.length);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(storageBudgetBytes);
    const jobs = (await createEmulatorAdmin(emulator.baseUrl).listBatchJobs(testApiKey)).filter((job) => !jobsBefore.has(job.name));
    expect(jobs.every((job) => job.displayName.includes('-synthesize-'))).toBe(true);
    expect(jobs.length).toBeGreaterThanOrEqual(Math.ceil(total / (storageBudgetBytes / 2)));
  });

  it('`run --only analyze` uploads the images chunk by chunk within the storage budget', async () => {
    emulator = await startTestEmulator({ latency: { pendingMilliseconds: 0, runningMilliseconds: 0 } });
    const sizes = names.map((name) => createSamplePng(name).length);
    const total = sizes.reduce((sum, size) => sum + size, 0);
    const storageBudgetBytes = Math.max(2 * Math.max(...sizes), Math.ceil(total / 2));
    const gemini = { ...config.gemini, chunkMaxLines: 8, storageBudgetBytes };
    const { project } = await createProject({ gemini });
    const held = watchHeldImageBytes(emulator);
    const analysed = await run({ project, baseUrl: emulator.baseUrl, value: { gemini }, only: 'analyze' }).summary;
    const peak = await held.stop();
    expect(analysed.exitCode, analysed.message).toBe(0);
    expect(analysed.stages).toMatchObject({ analyze: { requestsSent: names.length, succeeded: names.length }, synthesize: { status: 'not-run' } });
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(storageBudgetBytes);
    expect(await measureHeldImageBytes(emulator)).toBe(0);
  });

  it('a run after a compile change keeps the analysis checkpoint current: stopped mid-way, `--only compile` still runs from it', async () => {
    emulator = await startTestEmulator({ latency: { pendingMilliseconds: 0, runningMilliseconds: 0 } });
    const { project } = await createProject();
    expect((await run({ project, baseUrl: emulator.baseUrl }).summary).exitCode).toBe(0);
    const changed = { ...config, compile: { seed: 7 } };
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify(changed));
    // One synthesis job stuck: the run is stopped while the chunks' prompts are being written.
    await createEmulatorAdmin(emulator.baseUrl).replaceFaults({ jobOutcomes: [{ outcome: 'STUCK_PENDING', displayNameContains: '-synthesize-', count: 1 }] });
    const controller = new AbortController();
    const stopped = run({ project, baseUrl: emulator.baseUrl, value: changed, signal: controller.signal });
    for (let waited = 0; waited < 20_000; waited += 50) {
      await sleep(50);
      const jobs = await createEmulatorAdmin(emulator.baseUrl).listBatchJobs(testApiKey);
      if (jobs.some((job) => job.displayName.includes('-synthesize-') && /PENDING/.test(job.state))) break;
    }
    controller.abort();
    expect((await stopped.summary).status).toBe('interrupted');
    const compiled = await run({ project, baseUrl: emulator.baseUrl, value: changed, only: 'compile' }).summary;
    expect(compiled.exitCode, compiled.message).toBe(0);
  });

  it('turnaround sheets count in the storage budget and leave the Files API once their chunk\'s shots are made', async () => {
    emulator = await startTestEmulator({ latency: { pendingMilliseconds: 0, runningMilliseconds: 0 } });
    const sheetsOn = { gemini: { ...config.gemini, chunkMaxLines: 2 }, synthesize: { sheet: true } };
    // A first project learns how large the emulator's sheets are (its answers are the same for the same requests).
    const learned = await createProject(sheetsOn);
    expect((await run({ project: learned.project, baseUrl: emulator.baseUrl, value: sheetsOn }).summary).exitCode).toBe(0);
    const sheetSizes: number[] = [];
    for (const name of await readdir(learned.output)) if (/turnaround-sheet\.jpg$/.test(name)) sheetSizes.push((await readFile(join(learned.output, name))).length);
    expect(sheetSizes).toHaveLength(names.length);
    // Room for about one chunk's sheets at a time: all eight held until the end of the run would pass it.
    const storageBudgetBytes = 3 * Math.max(...sheetSizes);
    expect(sheetSizes.reduce((sum, size) => sum + size, 0)).toBeGreaterThan(storageBudgetBytes);
    const bounded = { ...sheetsOn, gemini: { ...sheetsOn.gemini, storageBudgetBytes } };
    const { project, output } = await createProject(bounded);
    const held = watchHeldImageBytes(emulator);
    const summary = await run({ project, baseUrl: emulator.baseUrl, value: bounded }).summary;
    const peak = await held.stop();
    expect(summary.exitCode, summary.message).toBe(0);
    expect((await listImages(output)).filter((name) => name.endsWith('turnaround-sheet.jpg'))).toHaveLength(names.length);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(storageBudgetBytes);
  });

  it('with --detach, the chunks under way are submitted and no more start (their uploads stay for their jobs)', async () => {
    emulator = await startTestEmulator({ latency: { pendingMilliseconds: 600_000, runningMilliseconds: 0 } });
    // Two chunks under way at once, four in all.
    const value = { gemini: { ...config.gemini, maxJobsInFlight: 2 } };
    const { project } = await createProject(value);
    const detached = await run({ project, baseUrl: emulator.baseUrl, value, detach: true }).summary;
    expect(detached.status, detached.message).toBe('pending');
    const jobs = await createEmulatorAdmin(emulator.baseUrl).listBatchJobs(testApiKey);
    expect(jobs.filter((job) => job.displayName.includes('-analyze-'))).toHaveLength(2);
  });
});
