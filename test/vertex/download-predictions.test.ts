import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Storage } from '@google-cloud/storage';
import { beforeAll, describe, expect, it } from 'vitest';
import { downloadPredictions, isPredictionsFileName } from '../../lib/vertex/download-predictions.ts';
import { toGcsUri, toRequestObjectName, toResultPrefix, type VertexTarget } from '../../lib/vertex/vertex-bucket-layout.ts';
import { createVertexClient, writeJsonLines } from '../support/create-vertex-client.ts';
import type { EmulatorAdmin } from '../support/emulator-admin.ts';
import { startDroppingProxy } from '../support/start-dropping-proxy.ts';
import type { TestEmulator } from '../support/start-test-emulator.ts';
import { createCountingRetry, openTestStorage, useStorageEmulator } from '../support/use-storage-emulator.ts';

const bucketName = 'chargen-vertex';
const outputFolder = 'chargen/w/results/analyze/job-1/prediction-model-2026-11-21T12:00:00.000000Z';
const outputDirectory = toGcsUri(bucketName, outputFolder);
/** Short, so the cut connection below (which the client never notices) is given up quickly. */
const idleTimeoutMilliseconds = 1_000;

const suite = useStorageEmulator();
let emulator: TestEmulator;
let admin: EmulatorAdmin;
let storage: Storage;
let directory: string;
beforeAll(() => ({ emulator, admin, storage, directory } = suite));

async function putObjects(objects: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(objects)) await storage.bucket(bucketName).file(`${outputFolder}/${name}`).save(text, { resumable: false });
}

const exists = (path: string) => access(path).then(() => true, () => false);

describe('downloadPredictions through @google-cloud/storage', () => {
  it('joins the predictions files in name order into one file, mending a last line without its line feed, and skips the rest', async () => {
    await putObjects({
      'predictions_00002-of-00003.jsonl': '{"n":3}\n{"n":4}',
      'errors_00001.jsonl': '{"error":"not a result"}\n',
      'predictions_00001-of-00003.jsonl': '{"n":1}\n{"n":2}',
      'predictions_00003-of-00003.jsonl': '{"n":5}\n',
      'incremental_predictions/predictions.jsonl': '{"n":"incremental"}\n',
      'predictions.json': '{"n":"not jsonl"}\n',
      'predictions_00000-empty.jsonl': '',
    });
    const destination = join(directory, 'joined.jsonl');
    const result = await downloadPredictions({ storage, outputDirectory, destination, idleTimeoutMilliseconds, retry: createCountingRetry() });
    expect(result.files).toEqual([
      `${outputDirectory}/predictions_00000-empty.jsonl`,
      `${outputDirectory}/predictions_00001-of-00003.jsonl`,
      `${outputDirectory}/predictions_00002-of-00003.jsonl`,
      `${outputDirectory}/predictions_00003-of-00003.jsonl`,
    ]);
    const text = await readFile(destination, 'utf8');
    expect(text).toBe('{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}\n{"n":5}\n');
    expect(result.bytes).toBe(Buffer.byteLength(text));
    expect(await exists(`${destination}.part`)).toBe(false);
    // A directory given with its trailing slash reads the same.
    expect((await downloadPredictions({ storage, outputDirectory: `${outputDirectory}/`, destination, idleTimeoutMilliseconds, retry: createCountingRetry() })).files).toHaveLength(4);
  });

  it('streams a 1,000-line file whole, byte for byte', async () => {
    const lines = Array.from({ length: 1_000 }, (_, index) => JSON.stringify({ status: '', request: { index }, response: { text: 'x'.repeat(index % 97) } }));
    await putObjects({ 'predictions.jsonl': `${lines.join('\n')}\n` });
    const destination = join(directory, 'thousand.jsonl');
    const result = await downloadPredictions({ storage, outputDirectory, destination, idleTimeoutMilliseconds, retry: createCountingRetry() });
    expect(result.files).toEqual([`${outputDirectory}/predictions.jsonl`]);
    const text = await readFile(destination, 'utf8');
    expect(text.split('\n').slice(0, -1)).toEqual(lines);
    expect(result.bytes).toBe(Buffer.byteLength(text));
  });

  it('reads a file again after a failure part-way, so nothing is doubled or lost', async () => {
    const names = Array.from({ length: 6 }, (_, index) => `predictions_0000${index + 1}-of-00006.jsonl`);
    await putObjects(Object.fromEntries(names.map((name, index) => [name, `{"file":${index}}\n`])));
    // Seeded dice: half of the reads fail (the list never does), so some fail after other files were written.
    await admin.replaceFaults({ seed: 'part-way', endpoints: { 'storage.objects.get': { rate503: 0.5 } } });
    const retry = { ...createCountingRetry(), policy: { attempts: 20, initialDelayMilliseconds: 1, maxDelayMilliseconds: 1 } };
    const destination = join(directory, 'retried.jsonl');
    await downloadPredictions({ storage, outputDirectory, destination, idleTimeoutMilliseconds, retry });
    expect(await readFile(destination, 'utf8')).toBe(names.map((_, index) => `{"file":${index}}\n`).join(''));
    expect(retry.waits()).toBeGreaterThan(0);
    expect((await admin.readStats()).faultsInjected['503:storage.objects.get']).toBe(retry.waits());
  });

  it('reads a file again from its start when its connection breaks part-way through the body (the client would wait forever)', async () => {
    const big = Array.from({ length: 2_000 }, (_, index) => JSON.stringify({ index, text: 'y'.repeat(100) })).join('\n');
    await putObjects({ 'predictions_00001.jsonl': '{"first":true}\n', 'predictions_00002.jsonl': big });
    let mediaReads = 0;
    const proxy = await startDroppingProxy({ target: emulator.baseUrl, cuts: (request) => request.url?.includes('alt=media') === true && (mediaReads += 1) === 2 });
    try {
      const retry = createCountingRetry();
      const destination = join(directory, 'cut.jsonl');
      await downloadPredictions({ storage: openTestStorage(proxy.baseUrl), outputDirectory, destination, idleTimeoutMilliseconds, retry });
      expect(await readFile(destination, 'utf8')).toBe(`{"first":true}\n${big}\n`);
      expect([proxy.cuts(), retry.waits()]).toEqual([1, 1]);
    } finally {
      await proxy.close();
    }
  });

  it('gives an empty file for a directory without predictions, and a clear error for a URI that is not gs://', async () => {
    const destination = join(directory, 'empty.jsonl');
    expect(await downloadPredictions({ storage, outputDirectory: toGcsUri(bucketName, 'nothing/here'), destination, idleTimeoutMilliseconds, retry: createCountingRetry() })).toEqual({ files: [], bytes: 0 });
    expect(await readFile(destination, 'utf8')).toBe('');
    await expect(downloadPredictions({ storage, outputDirectory: 'https://storage.googleapis.com/chargen-vertex/x', destination, idleTimeoutMilliseconds, retry: createCountingRetry() })).rejects.toThrow(
      'Not a Cloud Storage URI (gs://<bucket>/<object>): "https://storage.googleapis.com/chargen-vertex/x".',
    );
  });

  it('refuses a folder with files under other names and no predictions file: its answers are not taken for none', async () => {
    await storage.bucket(bucketName).file('renamed/output_00001-of-00001.jsonl').save('{"status": ""}\n', { resumable: false });
    const destination = join(directory, 'renamed.jsonl');
    const error = await downloadPredictions({ storage, outputDirectory: toGcsUri(bucketName, 'renamed'), destination, idleTimeoutMilliseconds, retry: createCountingRetry() }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ isRetryable: false });
    expect((error as Error).message).toContain('holds no predictions*.jsonl but other files (output_00001-of-00001.jsonl)');
    expect(await exists(destination)).toBe(false);
  });

  it('stops on an aborted signal, leaving neither the file nor its part', async () => {
    await putObjects({ 'predictions.jsonl': '{"n":1}\n' });
    const controller = new AbortController();
    controller.abort();
    const destination = join(directory, 'aborted.jsonl');
    await expect(downloadPredictions({ storage, outputDirectory, destination, idleTimeoutMilliseconds, retry: createCountingRetry(), signal: controller.signal })).rejects.toThrow(/Interrupted/);
    expect([await exists(destination), await exists(`${destination}.part`)]).toEqual([false, false]);
  });

  it('reads what a Vertex AI job wrote, at the directory its outputInfo names', async () => {
    const target: VertexTarget = { project: 'test-project', location: 'us-central1', bucket: bucketName, prefix: 'chargen' };
    const place = { target, workspaceId: 'w', stage: 'analyze', displayName: 'chargen-analyze-1' };
    const texts = ['one', 'two', 'three'];
    const src = await writeJsonLines(storage.bucket(bucketName), toRequestObjectName(place), texts.map((text) => ({ request: { contents: [{ role: 'user', parts: [{ text }] }] } })));
    const vertex = createVertexClient(emulator.baseUrl);
    const created = await vertex.batches.create({ model: 'gemini-3-flash-preview', src, config: { dest: toGcsUri(bucketName, toResultPrefix(place)), displayName: place.displayName } });
    emulator.clock.advance(2_000);
    const done = await vertex.batches.get({ name: created.name ?? '' });
    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
    const destination = join(directory, 'job.jsonl');
    const result = await downloadPredictions({ storage, outputDirectory: done.outputInfo?.gcsOutputDirectory ?? '', destination, idleTimeoutMilliseconds, retry: createCountingRetry() });
    expect(result.files).toEqual([`${done.outputInfo?.gcsOutputDirectory ?? ''}/predictions.jsonl`]);
    const lines = (await readFile(destination, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as { request: { contents: { parts: { text: string }[] }[] } });
    expect(lines.map((line) => line.request.contents[0]?.parts[0]?.text).sort()).toEqual([...texts].sort());
  });
});

describe('isPredictionsFileName', () => {
  it('takes predictions*.jsonl and nothing else', () => {
    for (const name of ['predictions.jsonl', 'predictions_00001.jsonl', 'predictions_00001-of-00002.jsonl']) expect(isPredictionsFileName(name), name).toBe(true);
    for (const name of ['errors_00001.jsonl', 'incremental_predictions.jsonl', 'predictions.jsonl.tmp', 'sub/predictions.jsonl', 'Predictions.jsonl']) expect(isPredictionsFileName(name), name).toBe(false);
  });
});
