// Emulator-only: requests with several images. Its analysis reflects every image, it refuses more images than an
// image model takes, and its images say (drawn, and in the file) which references and seed they were made from.
import { createHash } from 'node:crypto';
import { ApiError } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analysisRecordSchema } from '../../schemas/analysis.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';
import { createSamplePng } from '../support/sample-images.ts';

let emulator: TestEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => emulator.close());

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const inline = (bytes: Buffer) => ({ inlineData: { mimeType: 'image/png', data: bytes.toString('base64') } });
const references = ['front', 'side', 'back'].map((name) => createSamplePng(name));

async function analyse(images: readonly Buffer[]) {
  const response = await emulator.client.models.generateContent({
    model: 'gemini-3-flash-preview',
    contents: [{ role: 'user', parts: [{ text: 'Describe the character.' }, ...images.map(inline)] }],
    config: { responseMimeType: 'application/json', responseJsonSchema: analysisRecordSchema.toJSONSchema() },
  });
  return { record: JSON.parse(response.text ?? '') as unknown, usage: response.usageMetadata };
}

/** The emulator's note of what an image was made from: its JPEG COM segment or its PNG tEXt chunk. */
function readProvenance(bytes: Buffer): string | undefined {
  return /chargen-emulator references=[0-9a-f,]*(?: seed=[\x21-\x7e]+)?/.exec(bytes.toString('latin1'))?.[0];
}

async function generate(options: { images: readonly Buffer[]; seed?: number }) {
  const response = await emulator.client.models.generateContent({
    model: 'gemini-3-pro-image',
    contents: [{ role: 'user', parts: [{ text: 'The same character, full figure.' }, ...options.images.map(inline)] }],
    config: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio: '3:4', imageSize: '1K' }, ...(options.seed !== undefined ? { seed: options.seed } : {}) },
  });
  const part = response.candidates?.[0]?.content?.parts?.find((candidate) => candidate.inlineData);
  return Buffer.from(part?.inlineData?.data ?? '', 'base64');
}

describe('the emulator on requests of several images', () => {
  it('analyses every referenced image: each one counts in the usage, and changing any one changes the record', async () => {
    const all = await analyse(references);
    expect(analysisRecordSchema.safeParse(all.record).success).toBe(true);
    expect(all.usage?.promptTokensDetails?.find((detail) => detail.modality === 'IMAGE')?.tokenCount).toBe(3 * 560);
    for (const index of [0, 1, 2]) {
      const changed = references.map((image, at) => (at === index ? createSamplePng(`changed-${index}`) : image));
      expect((await analyse(changed)).record).not.toEqual(all.record);
    }
    expect((await analyse(references)).record).toEqual(all.record);
  });

  it('refuses more images than the image model takes (14 on gemini-3-pro-image) with a 400 INVALID_ARGUMENT', async () => {
    const fifteen = Array.from({ length: 15 }, (_unused, index) => createSamplePng(`reference-${index}`, { width: 16, height: 16 }));
    const refused = await generate({ images: fifteen }).then(() => undefined, (error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(400);
    expect((refused as ApiError).message).toContain('INVALID_ARGUMENT');
    expect((await generate({ images: fifteen.slice(0, 14) })).length).toBeGreaterThan(0);
  });

  it('draws and writes into each image the references (in order) and the seed it was made from', async () => {
    const withSeed = await generate({ images: references, seed: 42 });
    expect(readProvenance(withSeed)).toBe(`chargen-emulator references=${references.map(sha256).join(',')} seed=42`);
    const withoutSeed = await generate({ images: references.slice(0, 2) });
    expect(readProvenance(withoutSeed)).toBe(`chargen-emulator references=${references.slice(0, 2).map(sha256).join(',')}`);
    // Deterministic: the same request, the same bytes.
    expect(sha256(await generate({ images: references, seed: 42 }))).toBe(sha256(withSeed));
  });
});
