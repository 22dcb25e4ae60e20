import type { GoogleGenAI } from '@google/genai';
import type { Bucket } from '@google-cloud/storage';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FaultConfigInput } from '../../emulator/fault-config.ts';
import { createVertexClient, openTestBucket, readJsonLines, writeJsonLines } from '../support/create-vertex-client.ts';
import { createEmulatorAdmin } from '../support/emulator-admin.ts';
import { expectApiErrorWith } from '../support/expect-rejection.ts';
import { createSamplePng } from '../support/sample-images.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';

// Vertex AI batch prediction jobs under the emulator's faults and cancels, and with Cloud Storage references.

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

function setFaults(faults: FaultConfigInput): Promise<void> {
  return createEmulatorAdmin(emulator.baseUrl).replaceFaults(faults);
}

async function startJob(displayName: string, lines: unknown[]) {
  const src = await writeJsonLines(bucket, `input/${displayName}.jsonl`, lines);
  return vertex.batches.create({ model: 'gemini-3-flash-preview', src, config: { dest: `gs://chargen-vertex/output/${displayName}`, displayName } });
}

function readPredictions(directory: string): Promise<Record<string, unknown>[]> {
  return readJsonLines(bucket, `${directory.slice('gs://chargen-vertex/'.length)}/predictions.jsonl`);
}

const textLine = (text: string) => ({ request: { contents: [{ role: 'user', parts: [{ text }] }] } });

describe('Vertex AI batch prediction jobs: faults, cancels and Cloud Storage references', () => {
  it('exports the rows a running job completed when its cancel lands', async () => {
    const job = await startJob('cancel-running', Array.from({ length: 5 }, (_, index) => textLine(`row ${index}`)));
    emulator.clock.advance(1000);
    expect((await vertex.batches.get({ name: job.name ?? '' })).state).toBe('JOB_STATE_RUNNING');
    // Its lines are answered in the background from RUNNING on; each request to the emulator lets them move.
    for (let attempt = 0; attempt < 1000; attempt += 1) {
      const counts = (await emulator.stats())['requestsByModel'] as Record<string, number>;
      if (counts['gemini-3-flash-preview'] === 5) break;
    }
    await vertex.batches.cancel({ name: job.name ?? '' });
    emulator.clock.advance(500);
    const cancelled = await vertex.batches.get({ name: job.name ?? '' });
    expect(cancelled.state).toBe('JOB_STATE_CANCELLED');
    expect(cancelled.error).toEqual({ code: 1, message: 'CANCELED' });
    const rows = await readPredictions(cancelled.outputInfo?.gcsOutputDirectory ?? '');
    expect(cancelled.completionStats).toEqual({ successfulCount: '5' });
    expect(rows).toHaveLength(5);
  });

  it('refuses to cancel a job that has ended, with FAILED_PRECONDITION', async () => {
    const job = await startJob('ended', [textLine('one')]);
    emulator.clock.advance(2000);
    expect((await vertex.batches.get({ name: job.name ?? '' })).state).toBe('JOB_STATE_SUCCEEDED');
    await expectApiErrorWith(vertex.batches.cancel({ name: job.name ?? '' }), 400, 'FAILED_PRECONDITION');
  });

  it('ends a job as a jobOutcomes rule says, and answers lines with INTERNAL errors at lineErrorRate 1', async () => {
    await setFaults({ jobOutcomes: [{ outcome: 'FAILED', displayNameContains: 'doomed' }], lineErrorRate: 1 });
    const doomed = await startJob('doomed', [textLine('x')]);
    const erring = await startJob('erring', [textLine('y')]);
    emulator.clock.advance(2000);
    expect((await vertex.batches.get({ name: doomed.name ?? '' })).state).toBe('JOB_STATE_FAILED');
    const done = await vertex.batches.get({ name: erring.name ?? '' });
    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
    expect(done.completionStats).toEqual({ failedCount: '1' });
    const [row] = await readPredictions(done.outputInfo?.gcsOutputDirectory ?? '');
    expect(row?.['status']).toMatch(/^Internal Server Error: \{"error": \{"code": 500, /);
  });

  it('answers endpoint faults on batchPredictionJobs.* in the error envelope', async () => {
    await setFaults({ endpoints: { 'batchPredictionJobs.list': { rate429: 1 } }, retryDelaySeconds: 3 });
    await expectApiErrorWith(vertex.batches.list({ config: { pageSize: 5 } }), 429, 'RESOURCE_EXHAUSTED');
  });

  it('reads fileData gs:// references from the emulator Cloud Storage, and fails a line whose object is missing', async () => {
    await bucket.file('references/hero.png').save(createSamplePng('hero'), { resumable: false, contentType: 'image/png' });
    const withImage = (uri: string) => ({ request: { contents: [{ role: 'user', parts: [{ text: 'describe' }, { fileData: { fileUri: uri, mimeType: 'image/png' } }] }] } });
    const job = await startJob('references', [withImage('gs://chargen-vertex/references/hero.png'), withImage('gs://chargen-vertex/references/absent.png')]);
    emulator.clock.advance(2000);
    const done = await vertex.batches.get({ name: job.name ?? '' });
    expect(done.completionStats).toEqual({ successfulCount: '1', failedCount: '1' });
    const rows = await readPredictions(done.outputInfo?.gcsOutputDirectory ?? '');
    const failed = rows.find((row) => row['status'] !== '');
    expect(failed?.['status']).toMatch(/^Not Found: .*absent\.png/);
  });

  it('answers models.generateContent on the publisher model path (sync mode), with gs:// references, and 404s an unknown model', async () => {
    await bucket.file('references/sync.png').save(createSamplePng('sync'), { resumable: false, contentType: 'image/png' });
    const response = await vertex.models.generateContent({
      model: 'gemini-3-flash-preview',
      contents: [{ role: 'user', parts: [{ text: 'describe' }, { fileData: { fileUri: 'gs://chargen-vertex/references/sync.png', mimeType: 'image/png' } }] }],
    });
    expect(response.candidates).toHaveLength(1);
    expect(response.text).toContain('PNG');
    expect((await emulator.stats())['requestsByModel']).toEqual({ 'gemini-3-flash-preview': 1 });
    await expectApiErrorWith(
      vertex.models.generateContent({ model: 'gemini-0-unknown', contents: 'hello' }),
      404,
      'Publisher Model `projects/test-project/locations/us-central1/publishers/google/models/gemini-0-unknown` was not found or your project does not have access to it.',
    );
  });
});
