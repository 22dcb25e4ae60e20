import { Storage } from '@google-cloud/storage';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSynthesizeCheckpoint } from '../../stages/synthesize/synthesize-checkpoint.ts';
import { chargenBinary, runNodeProcess, startEmulatorProcess, type EmulatorProcess } from '../support/chargen-process.ts';
import { createEmulatorAdmin } from '../support/emulator-admin.ts';
import { createSamplePng } from '../support/sample-images.ts';
import type { RunJsonSummary } from '../../pipeline/cli/run-command.ts';

/**
 * Issue 18's "done when", first part: `chargen run` with `backend: "vertex"` against a `chargen emulator` process
 * (CHARGEN_BASE_URL, no key, no credentials), through the real @google/genai (vertexai: true) and
 * @google-cloud/storage clients: every image made, the references and request files in the bucket, the jobs Vertex
 * AI batch prediction jobs, and a second run sends nothing.
 */

const root = join(import.meta.dirname, '..', '..');
const vertex = { project: 'test-project', location: 'us-central1', bucket: 'chargen-e2e', prefix: 'studio' };
const analyzeModel = 'gemini-3-flash-preview';
const imageModel = 'gemini-3-pro-image';

describe('chargen run on the Vertex AI backend (emulator)', () => {
  let emulator: EmulatorProcess;
  let project: string;
  let env: NodeJS.ProcessEnv;
  let inputs: string[];

  beforeAll(async () => {
    emulator = await startEmulatorProcess({ pendingMilliseconds: 100, runningMilliseconds: 200 });
    project = await mkdtemp(join(tmpdir(), 'chargen-vertex-run-'));
    await cp(join(root, 'input_images'), join(project, 'input_images'), { recursive: true });
    for (const name of ['cleric', 'monk']) await writeFile(join(project, 'input_images', `${name}.png`), createSamplePng(name));
    inputs = (await readdir(join(project, 'input_images'))).sort();
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify({ backend: 'vertex', vertex }));
    // No key anywhere: a Vertex backend must not need one, and must not pick the Gemini API up from one.
    env = { ...process.env, GEMINI_API_KEY: '', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: emulator.baseUrl };
  });
  afterAll(async () => {
    await emulator?.stop();
    if (project) await rm(project, { recursive: true, force: true });
  });

  const listObjects = async (prefix: string) => {
    const storage = new Storage({ apiEndpoint: emulator.baseUrl, projectId: vertex.project });
    const [files] = await storage.bucket(vertex.bucket).getFiles({ prefix });
    return files.map((file) => file.name).sort();
  };

  it('makes every image through batch prediction jobs, its files in the bucket', async () => {
    const statsBefore = await createEmulatorAdmin(emulator.baseUrl).readStats();
    const run = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--yes', '--json'], env });
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as RunJsonSummary;
    expect(summary.stages['synthesize']).toMatchObject({ status: 'done' });

    const checkpoint = await readSynthesizeCheckpoint(join(project, '.chargen'));
    expect(checkpoint?.outputs).toHaveLength(inputs.length);
    expect(checkpoint?.failures).toEqual([]);
    const outputs = await readdir(join(project, 'final_characters'));
    for (const input of inputs) expect(outputs).toContain(input.replace(/\.png$/, '.jpg'));

    const admin = createEmulatorAdmin(emulator.baseUrl);
    const jobs = await admin.listPredictionJobs(vertex);
    expect(jobs.map((job) => job.state).sort()).toEqual(['JOB_STATE_SUCCEEDED', 'JOB_STATE_SUCCEEDED']);
    expect(jobs.every((job) => job.name.startsWith(`projects/${vertex.project}/locations/${vertex.location}/batchPredictionJobs/`))).toBe(true);
    const stats = await admin.readStats();
    expect(stats.requestsByModel[analyzeModel] ?? 0).toBe((statsBefore.requestsByModel[analyzeModel] ?? 0) + inputs.length);
    expect(stats.requestsByModel[imageModel] ?? 0).toBe((statsBefore.requestsByModel[imageModel] ?? 0) + inputs.length);
    // Nothing went to the Developer API's Files API.
    expect(stats.uploads).toBe(statsBefore.uploads);

    // Written: a reference per distinct image and a request file per job; once the run is done, both are deleted
    // (no job needs them), and the results stay until `chargen clean`.
    expect(stats.objectsWritten - statsBefore.objectsWritten).toBe(inputs.length + 2);
    const objects = await listObjects(`${vertex.prefix}/`);
    expect(objects.filter((name) => name.includes('/references/') || name.includes('/requests/'))).toEqual([]);
    expect(objects.filter((name) => /\/results\/.+\/predictions[^/]*\.jsonl$/.test(name)).length).toBe(2);
  });

  it('a second run has nothing to do and sends nothing', async () => {
    const admin = createEmulatorAdmin(emulator.baseUrl);
    const before = await admin.readStats();
    const run = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--json'], env });
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as RunJsonSummary;
    expect(summary.stages).toMatchObject({ analyze: { status: 'skipped', requestsSent: 0 }, synthesize: { status: 'skipped', requestsSent: 0 } });
    const after = await admin.readStats();
    expect(after.batchesCreated).toBe(before.batchesCreated);
    expect(after.requestsByModel).toEqual(before.requestsByModel);
  });

  it('the files moved to another bucket and folder, nothing paid for is asked again', async () => {
    const admin = createEmulatorAdmin(emulator.baseUrl);
    const before = await admin.readStats();
    const configPath = join(project, 'chargen.config.json');
    await writeFile(configPath, JSON.stringify({ backend: 'vertex', vertex: { ...vertex, bucket: 'chargen-moved', prefix: 'moved' } }));
    try {
      const run = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--from', 'analyze', '--json'], env });
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ stages: { analyze: { requestsSent: 0 }, synthesize: { requestsSent: 0 } } });
      expect((await admin.readStats()).requestsByModel).toEqual(before.requestsByModel);
    } finally {
      await writeFile(configPath, JSON.stringify({ backend: 'vertex', vertex }));
    }
  });

  it('status names the Vertex AI backend and finds no job running', async () => {
    const status = await runNodeProcess({ cwd: project, args: [chargenBinary, 'status'], env });
    expect(status.code, status.stderr + status.stdout).toBe(0);
    expect(status.stdout + status.stderr).toContain(`project ${vertex.project}`);
  });

  it('jobs list names the Vertex AI jobs, and clean deletes what the workspace put in the bucket', async () => {
    const list = await runNodeProcess({ cwd: project, args: [chargenBinary, 'jobs', 'list', '--json'], env });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('batchPredictionJobs/');
    const clean = await runNodeProcess({ cwd: project, args: [chargenBinary, 'clean', '--json'], env });
    expect(clean.code, clean.stderr).toBe(0);
    expect(await listObjects(`${vertex.prefix}/`)).toEqual([]);
  });

  it('clean refuses while a job is open (its results are answers not yet read); after the run collects them it cleans', async () => {
    const detached = await mkdtemp(join(tmpdir(), 'chargen-vertex-detach-'));
    try {
      await cp(join(root, 'input_images', 'bard.png'), join(detached, 'input_images', 'bard.png'));
      await writeFile(join(detached, 'chargen.config.json'), JSON.stringify({ backend: 'vertex', vertex: { ...vertex, prefix: 'detached' } }));
      const submitted = await runNodeProcess({ cwd: detached, args: [chargenBinary, 'run', '--yes', '--detach'], env });
      expect(submitted.code, submitted.stderr).toBe(4);
      const refused = await runNodeProcess({ cwd: detached, args: [chargenBinary, 'clean'], env });
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(/1 job of this workspace is not finished \(projects\/test-project\/locations\/us-central1\/batchPredictionJobs\/\d+\)/);
      expect((await listObjects('detached/')).length).toBeGreaterThan(0);
      let run = await runNodeProcess({ cwd: detached, args: [chargenBinary, 'run', '--yes'], env });
      expect(run.code, run.stderr).toBe(0);
      const clean = await runNodeProcess({ cwd: detached, args: [chargenBinary, 'clean'], env });
      expect(clean.code, clean.stderr).toBe(0);
      expect(await listObjects('detached/')).toEqual([]);
      run = await runNodeProcess({ cwd: detached, args: [chargenBinary, 'run', '--json'], env });
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ stages: { synthesize: { status: 'skipped', requestsSent: 0 } } });
    } finally {
      await rm(detached, { recursive: true, force: true });
    }
  });
});
