import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorGeminiSettings, geminiSettingsSchema } from '../../../schemas/gemini-settings.ts';
import { createVertexBatchService } from '../../../lib/vertex/vertex-batch-service.ts';
import { parseGcsUri, toResultPrefix, type VertexTarget } from '../../../lib/vertex/vertex-bucket-layout.ts';
import { createVertexClient, readJsonLines } from '../../support/create-vertex-client.ts';
import { createSeededIds, startTestEmulator } from '../../support/start-test-emulator.ts';
import { createCountingRetry, openTestStorage } from '../../support/use-storage-emulator.ts';
import { contractStage, createKeyedLines, downloadResultLines, followJob, keysOfKind, openEmulatorWorkspace, submitChunk, uploadChunk, type RunningBatchService } from './batch-service-steps.ts';
import { createChunkSubmitter } from '../../../lib/gemini/submit-chunk.ts';
import { createMemoryLogger } from '../../../lib/logger.ts';
import { testBatchService } from './test-batch-service.ts';

const target: VertexTarget = { project: 'test-project', location: 'us-central1', bucket: 'chargen-vertex', prefix: 'contract' };

/**
 * Vertex AI batch prediction's service (Cloud Storage, `batchPredictionJobs`) through @google/genai with vertexai: true
 * and @google-cloud/storage, on the emulator with a hand-moved clock. Its ids are seeded: a job's id seeds the order
 * the emulator shuffles its results into, so that order is the same on every run.
 */
async function startVertexBatchService(): Promise<RunningBatchService & { storage: ReturnType<typeof openTestStorage> }> {
  const emulator = await startTestEmulator({}, { generateId: createSeededIds('batch-service-contract') });
  const { workspace, reset, stop } = await openEmulatorWorkspace(emulator);
  const storage = openTestStorage(emulator.baseUrl);
  const settings = geminiSettingsSchema.parse(emulatorGeminiSettings);
  const service = createVertexBatchService({ client: createVertexClient(emulator.baseUrl), storage, target, workspace, settings, retry: createCountingRetry() });
  return {
    service,
    workspace,
    storage,
    advance: (milliseconds) => emulator.clock.advance(milliseconds),
    async hasRequestFile(inputName) {
      const { bucket, objectName } = parseGcsUri(inputName);
      const [exists] = await storage.bucket(bucket).file(objectName).exists();
      return exists;
    },
    missingFileUri: `gs://${target.bucket}/${target.prefix}/contract/references/${'0'.repeat(64)}`,
    unknownJobName: `projects/${target.project}/locations/${target.location}/batchPredictionJobs/1234567890123456789`,
    resultLocationPattern: /^gs:\/\/chargen-vertex\/contract\/contract\/results\/analyze\/chargen-contract-analyze-[0-9a-f]{16}-1\/prediction-model-[^/]+$/,
    // Cloud Storage answers 404 for a deleted object, which deleteObjectIfPresent takes for done: no error reaches the executor.
    deleteOfGoneRequestFile: 'resolves',
    // The input is read once the job runs: the job is created, then fails to import (code 3), answering nothing.
    createFromGoneRequestFile: { jobEndsIn: 'JOB_STATE_FAILED' },
    reset,
    stop,
  };
}

testBatchService({ name: 'Vertex AI batch prediction (emulator)', start: startVertexBatchService });

describe('BatchService: Vertex AI batch prediction results (emulator)', () => {
  let running: Awaited<ReturnType<typeof startVertexBatchService>>;
  beforeAll(async () => {
    running = await startVertexBatchService();
  });
  afterAll(async () => running?.stop());

  it('reads predictions*.jsonl under the job\'s dest prefix, shuffled and without keys, back to every key', async () => {
    const { service, workspace, storage } = running;
    const lines = createKeyedLines(20, 'shuffled');
    const { record, jobName } = await submitChunk({ service, workspace, lines });
    const { job } = await followJob({ running, jobName, stepMilliseconds: 1_000 });
    expect(job.state).toBe('JOB_STATE_SUCCEEDED');

    const dest = toResultPrefix({ target, workspaceId: workspace.id, stage: contractStage, displayName: record.displayName });
    expect(job.resultLocation?.startsWith(`gs://${target.bucket}/${dest}prediction-model-`)).toBe(true);
    const [objects] = await storage.bucket(target.bucket).getFiles({ prefix: dest });
    const folder = `${parseGcsUri(job.resultLocation ?? '').objectName}/`;
    expect(objects.map((object) => object.name)).toEqual([`${folder}predictions.jsonl`]);
    // No key comes back beside an answer on Vertex AI: only the labels of the echoed request carry it.
    const raw = await readJsonLines(storage.bucket(target.bucket), `${folder}predictions.jsonl`);
    expect(raw.filter((line) => 'key' in line)).toEqual([]);

    const results = await downloadResultLines({ running, record, resultLocation: job.resultLocation ?? '' });
    const keys = results.map((line) => line.key);
    expect(keysOfKind(results, 'response')).toEqual(lines.map((line) => line.key).sort());
    // The emulator's order is seeded by the job's id (seeded here): not the input order, the same on every run.
    expect(keys).not.toEqual(lines.map((line) => line.key));
  });

  it('a create refused for good with 404 (a model not served there) stops after the retry attempts, not uploading forever', async () => {
    const { service, workspace } = running;
    const lines = createKeyedLines(2, 'unserved');
    const record = { ...(await uploadChunk({ service, workspace, lines })), model: 'gemini-does-not-exist' };
    delete (record as Partial<typeof record>).inputFileName;
    const settings = geminiSettingsSchema.parse({ ...emulatorGeminiSettings, retryAttempts: 3 });
    const retry = createCountingRetry();
    const submitter = createChunkSubmitter({ service, workspace, settings, retry, logger: createMemoryLogger() });
    const failure = await submitter.submit(record, { lookFirst: false }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ status: 404 });
    // Three creates, each after a fresh look at the input (a 412 on the same bytes): two waits between them.
    expect(retry.waits()).toBe(2);
  });
});
