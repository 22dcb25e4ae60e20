import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBatchJob } from '../../lib/gemini/read-batch-job.ts';
import { startTestEmulator, testApiKey, type TestEmulator } from '../support/start-test-emulator.ts';

let emulator: TestEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => emulator.close());

describe('readBatchJob', () => {
  it('reads the job and its counts from a gzip-encoding front end (the emulator by default)', async () => {
    const probe = await emulator.request('/v1beta/batches?pageSize=1');
    expect(probe.headers.get('content-encoding')).toBe('gzip');
    const job = await emulator.client.batches.create({
      model: 'gemini-3-flash-preview',
      src: [{ contents: [{ role: 'user', parts: [{ text: 'one' }] }] }, { contents: [{ role: 'user', parts: [{ text: 'two' }] }] }],
    });
    emulator.clock.advance(2000);
    const view = await readBatchJob({ connection: { apiKey: testApiKey, baseUrl: emulator.baseUrl }, fetch, name: job.name ?? '' });
    expect(view).toMatchObject({ name: job.name, state: 'JOB_STATE_SUCCEEDED', requestCount: 2, succeededCount: 2, failedCount: 0 });
  });
});
