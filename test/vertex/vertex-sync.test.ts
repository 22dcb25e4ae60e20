import { Storage } from '@google-cloud/storage';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readSynthesizeCheckpoint } from '../../stages/synthesize/synthesize-checkpoint.ts';
import { chargenBinary, runNodeProcess, startEmulatorProcess, type EmulatorProcess } from '../support/chargen-process.ts';
import { createEmulatorAdmin } from '../support/emulator-admin.ts';
import { createSamplePng } from '../support/sample-images.ts';
import { startDroppingProxy, type DroppingProxy } from '../support/start-dropping-proxy.ts';
import type { RunJsonSummary } from '../../pipeline/cli/run-command.ts';

/**
 * Issue 18: "Sync mode through Vertex generateContent". `chargen run --mode sync` with `backend: "vertex"` against a
 * `chargen emulator` process makes every image through the publisher model's generateContent, no batch prediction
 * job, its references going up to the bucket as for a batch run and passed as `fileData` `gs://` URIs (Vertex reads
 * Cloud Storage; it has no Files API). A pass-through proxy between chargen and the emulator sees what went on the wire.
 */

const root = join(import.meta.dirname, '..', '..');
const vertex = { project: 'sync-project', location: 'us-central1', bucket: 'chargen-sync', prefix: 'studio' };
const models = ['gemini-3-flash-preview', 'gemini-3-pro-image'];

const partSchema = z.object({ fileData: z.object({ fileUri: z.string(), mimeType: z.string().optional() }).optional(), inlineData: z.unknown().optional() }).loose();
const generateContentSchema = z.object({ contents: z.array(z.object({ parts: z.array(partSchema) }).loose()) }).loose();

interface SeenCall {
  path: string;
  body: z.infer<typeof generateContentSchema>;
}

describe('chargen run --mode sync on the Vertex AI backend (emulator)', () => {
  let emulator: EmulatorProcess;
  let proxy: DroppingProxy;
  let project: string;
  const calls: SeenCall[] = [];

  beforeAll(async () => {
    emulator = await startEmulatorProcess({ pendingMilliseconds: 100, runningMilliseconds: 200 });
    proxy = await startDroppingProxy({
      target: emulator.baseUrl,
      observes: (request, body) => {
        if (request.method === 'POST' && request.url?.endsWith(':generateContent')) calls.push({ path: request.url, body: generateContentSchema.parse(JSON.parse(body.toString('utf8'))) });
      },
    });
    project = await mkdtemp(join(tmpdir(), 'chargen-vertex-sync-'));
    await cp(join(root, 'input_images'), join(project, 'input_images'), { recursive: true });
    for (const name of ['cleric', 'monk']) await writeFile(join(project, 'input_images', `${name}.png`), createSamplePng(name));
    await writeFile(join(project, 'chargen.config.json'), JSON.stringify({ backend: 'vertex', vertex }));
  });
  afterAll(async () => {
    await proxy?.close();
    await emulator?.stop();
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('makes every image through publisher generateContent, references as gs:// fileData from the bucket', async () => {
    const inputs = (await readdir(join(project, 'input_images'))).sort();
    const admin = createEmulatorAdmin(emulator.baseUrl);
    const before = await admin.readStats();
    const env = { ...process.env, GEMINI_API_KEY: '', GOOGLE_API_KEY: '', CHARGEN_BASE_URL: proxy.baseUrl };
    const run = await runNodeProcess({ cwd: project, args: [chargenBinary, 'run', '--mode', 'sync', '--yes', '--json'], env });
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as RunJsonSummary;
    expect(summary.deadLetter).toEqual([]);
    expect(summary.outputs).toHaveLength(inputs.length);
    const checkpoint = await readSynthesizeCheckpoint(join(project, '.chargen'));
    expect(checkpoint?.outputs).toHaveLength(inputs.length);

    const after = await admin.readStats();
    expect(after.generateContentCalls - before.generateContentCalls).toBe(2 * inputs.length);
    for (const model of models) expect((after.requestsByModel[model] ?? 0) - (before.requestsByModel[model] ?? 0), model).toBe(inputs.length);
    expect(after.batchesCreated).toBe(before.batchesCreated);
    expect(after.uploads).toBe(before.uploads);
    expect(after.objectsWritten - before.objectsWritten).toBe(inputs.length);

    // Every call went to a publisher model of the configured project and location, its images as gs:// references.
    const workspaceId = (JSON.parse(await readFile(join(project, '.chargen', 'workspace.json'), 'utf8')) as { id: string }).id;
    const referencePrefix = `gs://${vertex.bucket}/${vertex.prefix}/${workspaceId}/references/`;
    expect(calls).toHaveLength(2 * inputs.length);
    const modelPath = new RegExp(`^/v1beta1/projects/${vertex.project}/locations/${vertex.location}/publishers/google/models/([^/:]+):generateContent$`);
    expect(calls.map((call) => modelPath.exec(call.path)?.[1]).sort()).toEqual(models.flatMap((model) => inputs.map(() => model)).sort());
    const parts = calls.flatMap((call) => call.body.contents.flatMap((content) => content.parts));
    expect(parts.filter((part) => part.inlineData !== undefined)).toEqual([]);
    const fileUris = new Set(parts.flatMap((part) => (part.fileData ? [part.fileData.fileUri] : [])));
    const hashes = await Promise.all(inputs.map(async (input) => createHash('sha256').update(await readFile(join(project, 'input_images', input))).digest('hex')));
    expect([...fileUris].sort()).toEqual(hashes.map((hash) => `${referencePrefix}${hash}`).sort());
    for (const call of calls) expect(call.body.contents.flatMap((content) => content.parts).some((part) => part.fileData), call.path).toBe(true);

    // Once no call needs them, the references are deleted, as after a batch run.
    const [objects] = await new Storage({ apiEndpoint: emulator.baseUrl, projectId: vertex.project }).bucket(vertex.bucket).getFiles({ prefix: `${vertex.prefix}/` });
    expect(objects.map((object) => object.name)).toEqual([]);
  });
});
