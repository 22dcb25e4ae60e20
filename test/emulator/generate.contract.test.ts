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

  it('answers an image request with another image for another seed, the same one for the same seed', async () => {
    // Through the SDK's own field (GenerateContentConfig.seed, sent as generationConfig.seed).
    const draw = async (seed?: number) => {
      const response = await emulator.client.models.generateContent({
        model: 'gemini-3-pro-image',
        contents: 'a knight in silver armour',
        config: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio: '1:1', imageSize: '1K' }, ...(seed === undefined ? {} : { seed }) },
      });
      return response.candidates?.[0]?.content?.parts?.find((part) => part.inlineData)?.inlineData?.data;
    };
    const [none, five, fiveAgain, six] = [await draw(), await draw(5), await draw(5), await draw(6)];
    expect(five).toBe(fiveAgain);
    expect(new Set([none, five, six]).size).toBe(3);
  });
});
