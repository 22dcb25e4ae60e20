import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';

// Emulator-only: its counters. The generateContent contract every backend keeps is in
// test/contract/cases/generate-cases.ts.

let emulator: TestEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => emulator.close());
afterEach(async () => emulator.emulator.reset());

describe('generateContent: the emulator’s counters, emulator only', () => {
  it('counts sync calls and requests per model in the stats', async () => {
    await emulator.client.models.generateContent({ model: 'gemini-3-flash-preview', contents: 'one' });
    await emulator.client.models.generateContent({ model: 'gemini-3-flash-preview', contents: 'two' });
    const stats = await emulator.stats();
    expect(stats['generateContentCalls']).toBe(2);
    expect(stats['requestsByModel']).toEqual({ 'gemini-3-flash-preview': 2 });
  });
});
