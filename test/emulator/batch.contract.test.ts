import type { GoogleGenAI } from '@google/genai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';
import { expectApiError } from '../support/expect-rejection.ts';

// Emulator-only: what its counters alone show, and its limits. The batch contract every backend keeps is in
// test/contract/cases/batch-cases.ts.

let emulator: TestEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => {
  await emulator.close();
});
afterEach(async () => emulator.emulator.reset());

describe('batches: inline requests, emulator only (its size limit)', () => {
  it('refuses an inline batch over the size limit (scaled down here)', async () => {
    const small = await startTestEmulator({ limits: { maxInlineBatchBytes: 2000 } });
    try {
      const error = await expectApiError(
        small.client.batches.create({ model: 'gemini-3-flash-preview', src: [{ contents: [{ role: 'user', parts: [{ text: 'x'.repeat(3000) }] }] }] }),
      );
      expect(error.status).toBe(400);
      expect(error.message).toContain('exceeds the limit');
    } finally {
      await small.close();
    }
  });
});

describe('batches: delete and limits, emulator only (its counters and limits)', () => {
  async function createInline(client: GoogleGenAI, displayName: string) {
    return client.batches.create({ model: 'gemini-3-flash-preview', src: [{ contents: [{ role: 'user', parts: [{ text: displayName }] }] }], config: { displayName } });
  }

  it('deletes a job without cancelling it: its lines are still answered', async () => {
    const job = await createInline(emulator.client, 'deleted-but-running');
    await emulator.client.batches.delete({ name: job.name ?? '' });
    emulator.clock.advance(2000);
    await emulator.client.files.list({ config: { pageSize: 1 } });
    expect((await emulator.stats())['requestsByModel']).toEqual({ 'gemini-3-flash-preview': 1 });
  });

  it('refuses a job beyond the concurrent limit with 429, and accepts again once one finishes', async () => {
    const small = await startTestEmulator({ limits: { maxConcurrentBatches: 2 } });
    try {
      await createInline(small.client, 'one');
      await createInline(small.client, 'two');
      const error = await expectApiError(createInline(small.client, 'three'));
      expect(error.status).toBe(429);
      expect(error.message).toContain('RESOURCE_EXHAUSTED');
      small.clock.advance(2000);
      await expect(createInline(small.client, 'four')).resolves.toBeDefined();
    } finally {
      await small.close();
    }
  });
});
