import type { GoogleGenAI } from '@google/genai';
import type { Bucket } from '@google-cloud/storage';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectApiErrorWith } from '../support/expect-rejection.ts';
import { createVertexClient, openTestBucket, readJsonLines, writeJsonLines } from '../support/create-vertex-client.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';

const jobNamePattern = /^projects\/test-project\/locations\/us-central1\/batchPredictionJobs\/[1-9]\d{18}$/;

/** A line whose key rides in the request's `labels`: the echoed request brings it back with the answer. */
function requestLine(text: string): Record<string, unknown> {
  return { request: { contents: [{ role: 'user', parts: [{ text }] }], labels: { chargen_key: text.replace(/\W+/g, '-') } } };
}

let emulator: TestEmulator;
let vertex: GoogleGenAI;
let bucket: Bucket;

beforeAll(async () => {
  emulator = await startTestEmulator();
  vertex = createVertexClient(emulator.baseUrl);
  bucket = openTestBucket(emulator.baseUrl);
});
afterAll(async () => emulator.close());
afterEach(async () => emulator.emulator.reset());

function uploadInput(name: string, lines: unknown[]): Promise<string> {
  return writeJsonLines(bucket, name, lines);
}

async function createJob(src: string, displayName: string) {
  return vertex.batches.create({ model: 'gemini-3-flash-preview', src, config: { dest: 'gs://chargen-vertex/output', displayName } });
}

describe('Vertex AI batch prediction jobs through @google/genai (vertexai: true) and @google-cloud/storage', () => {
  it('runs a job from a JSONL object to JOB_STATE_SUCCEEDED and writes predictions.jsonl, shuffled, without keys', async () => {
    const inputs = Array.from({ length: 20 }, (_, index) => requestLine(`line ${index}`));
    const broken = { request: { contents: [{ role: 'user', parts: [{ text: 'broken' }] }], config: {} }, custom_id: 'line-broken' };
    const src = await uploadInput('input/batch.jsonl', [...inputs, broken]);
    const created = await createJob(src, 'vertex-one');
    expect(created.name).toMatch(jobNamePattern);
    expect(created).toMatchObject({
      displayName: 'vertex-one',
      state: 'JOB_STATE_PENDING',
      model: 'publishers/google/models/gemini-3-flash-preview',
      src: { format: 'jsonl', gcsUri: [src] },
      dest: { format: 'jsonl', gcsUri: 'gs://chargen-vertex/output' },
    });
    expect(created.createTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(created.completionStats).toBeUndefined();
    expect(created.outputInfo).toBeUndefined();
    emulator.clock.advance(1000);
    const running = await vertex.batches.get({ name: created.name ?? '' });
    expect(running.state).toBe('JOB_STATE_RUNNING');
    expect(running.startTime).toBeDefined();
    expect(running.outputInfo?.gcsOutputDirectory).toBe(`gs://chargen-vertex/output/prediction-model-${created.createTime ?? ''}`);
    emulator.clock.advance(1000);
    const done = await vertex.batches.get({ name: created.name ?? '' });
    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
    expect(done.completionStats).toEqual({ successfulCount: '20', failedCount: '1' });
    expect(done.endTime).toBeDefined();
    const directory = done.outputInfo?.gcsOutputDirectory ?? '';
    expect(directory).toMatch(/^gs:\/\/chargen-vertex\/output\/prediction-model-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    const [objects] = await bucket.getFiles({ prefix: 'output/' });
    const resultName = `${directory.slice('gs://chargen-vertex/'.length)}/predictions.jsonl`;
    expect(objects.map((object) => object.name)).toEqual([resultName]);
    const lines = await readJsonLines(bucket, resultName);
    expect(lines).toHaveLength(21);
    for (const line of lines) {
      expect(Object.keys(line).slice(0, 3)).toEqual(['status', 'processed_time', 'request']);
      expect(line['processed_time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
      expect(line).not.toHaveProperty('key');
    }
    const succeeded = lines.filter((line) => line['status'] === '');
    expect(succeeded.map((line) => line['request'])).toEqual(expect.arrayContaining(inputs.map((input) => input.request)));
    expect(succeeded.every((line) => (line['response'] as { candidates?: unknown[] }).candidates?.length === 1)).toBe(true);
    expect(succeeded.map((line) => line['request'])).not.toEqual(inputs.map((input) => input.request));
    const failed = lines.filter((line) => line['status'] !== '');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.['status']).toMatch(/^Bad Request: \{"error": \{"code": 400, "message": ".+", "status": "INVALID_ARGUMENT"\}\}$/);
    expect(failed[0]?.['request']).toEqual(broken.request);
    expect(failed[0]).not.toHaveProperty('response');
    expect(failed[0]?.['custom_id']).toBe('line-broken');
    expect((await emulator.stats())['requestsByModel']).toEqual({ 'gemini-3-flash-preview': 21 });
  });

  it('lists jobs newest first a page at a time', async () => {
    const src = await uploadInput('input/list.jsonl', [requestLine('one')]);
    const first = await createJob(src, 'first');
    const second = await createJob(src, 'second');
    const pager = await vertex.batches.list({ config: { pageSize: 1 } });
    expect(pager.page.map((job) => job.name)).toEqual([second.name]);
    expect(pager.hasNextPage()).toBe(true);
    expect((await pager.nextPage()).map((job) => job.name)).toEqual([first.name]);
    expect(pager.hasNextPage()).toBe(false);
    expect(await emulator.stats()).toMatchObject({ predictionJobs: 2, batchesCreated: 2, batches: 0 });
  });

  it('cancels a pending job: CANCELLING, then CANCELLED, no line answered and no output written', async () => {
    const src = await uploadInput('input/cancel.jsonl', [requestLine('never')]);
    const job = await createJob(src, 'to-cancel');
    await vertex.batches.cancel({ name: job.name ?? '' });
    expect((await vertex.batches.get({ name: job.name ?? '' })).state).toBe('JOB_STATE_CANCELLING');
    emulator.clock.advance(500);
    const cancelled = await vertex.batches.get({ name: job.name ?? '' });
    expect(cancelled.state).toBe('JOB_STATE_CANCELLED');
    expect(cancelled.endTime).toBeDefined();
    emulator.clock.advance(5000);
    expect((await vertex.batches.get({ name: job.name ?? '' })).state).toBe('JOB_STATE_CANCELLED');
    expect((await bucket.getFiles({ prefix: 'output/' }))[0]).toEqual([]);
    expect((await emulator.stats())['requestsByModel']).toEqual({});
  });

  it('fails a job whose input object does not exist with the importer error (code 3)', async () => {
    const job = await createJob('gs://chargen-vertex/input/missing.jsonl', 'missing-input');
    emulator.clock.advance(2000);
    const failed = await vertex.batches.get({ name: job.name ?? '' });
    expect(failed.state).toBe('JOB_STATE_FAILED');
    expect(failed.error?.code).toBe(3);
    expect(failed.error?.message).toMatch(/^Failed to import data\. .*gs:\/\/chargen-vertex\/input\/missing\.jsonl/);
  });

  it('fails the whole job, answering no line, when one input line is not a {"request": {...}} object', async () => {
    const src = await uploadInput('input/bad-line.jsonl', [requestLine('fine'), { contents: [] }]);
    const job = await createJob(src, 'bad-line');
    emulator.clock.advance(2000);
    const failed = await vertex.batches.get({ name: job.name ?? '' });
    expect(failed.state).toBe('JOB_STATE_FAILED');
    expect(failed.error?.message).toContain('input/bad-line.jsonl line 2');
    expect((await emulator.stats())['requestsByModel']).toEqual({});
  });

  it('answers 404 for an unknown job, 404 for an unknown model, and 401 without a bearer token', async () => {
    await expectApiErrorWith(vertex.batches.get({ name: 'projects/test-project/locations/us-central1/batchPredictionJobs/123' }), 404, 'NOT_FOUND');
    await expectApiErrorWith(
      vertex.batches.create({ model: 'gemini-0-unknown', src: 'gs://chargen-vertex/a.jsonl', config: { dest: 'gs://chargen-vertex/out', displayName: 'x' } }),
      404,
      'The PublisherModel gemini-0-unknown does not exist.',
    );
    const response = await fetch(`${emulator.baseUrl}/v1beta1/projects/test-project/locations/us-central1/batchPredictionJobs`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
  });
});
