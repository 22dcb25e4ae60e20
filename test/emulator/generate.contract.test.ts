import type { GoogleGenAI } from '@google/genai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readPngDimensions } from '../../emulator/png/encode-png.ts';
import { inspectImage } from '../../lib/media/inspect-image.ts';
import { createSampleJpeg, createSamplePng } from '../support/sample-images.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';
import { expectApiError } from '../support/expect-rejection.ts';

let emulator: TestEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => emulator.close());
afterEach(async () => emulator.emulator.reset());

const recordSchema = z.object({
  archetype: z.string(),
  species: z.string(),
  apparent_age: z.number().int().min(0).max(120),
  visual_traits: z.array(z.string()).min(1).max(6),
  mood: z.enum(['calm', 'fierce', 'joyful', 'melancholic']),
  colour_palette: z.array(z.string().regex(/^#[0-9a-f]{6}$/i)).min(2).max(5),
  accessory: z.string().nullable(),
});

/** What a pipeline sends as `responseSchema`: the OpenAPI subset, uppercase types. */
const openApiSchema = {
  type: 'OBJECT',
  properties: {
    archetype: { type: 'STRING', description: 'role in a story' },
    species: { type: 'STRING' },
    apparent_age: { type: 'INTEGER', minimum: 0, maximum: 120 },
    visual_traits: { type: 'ARRAY', items: { type: 'STRING' }, minItems: 1, maxItems: 6 },
    mood: { type: 'STRING', format: 'enum', enum: ['calm', 'fierce', 'joyful', 'melancholic'] },
    colour_palette: { type: 'ARRAY', items: { type: 'STRING', pattern: '^#[0-9a-fA-F]{6}$' }, minItems: 2, maxItems: 5 },
    accessory: { type: 'STRING', nullable: true },
  },
  required: ['archetype', 'species', 'apparent_age', 'visual_traits', 'mood', 'colour_palette', 'accessory'],
  propertyOrdering: ['archetype', 'species', 'apparent_age', 'visual_traits', 'mood', 'colour_palette', 'accessory'],
};

async function uploadPng(client: GoogleGenAI, seed: string) {
  return client.files.upload({ file: new Blob([createSamplePng(seed)]), config: { mimeType: 'image/png' } });
}

async function analyse(client: GoogleGenAI, fileUri: string, schemaField: 'responseSchema' | 'responseJsonSchema' = 'responseSchema') {
  const schema = schemaField === 'responseSchema' ? openApiSchema : z.toJSONSchema(recordSchema);
  return client.models.generateContent({
    model: 'gemini-3-flash-preview',
    contents: [{ role: 'user', parts: [{ text: 'Describe this character.' }, { fileData: { fileUri, mimeType: 'image/png' } }] }],
    config: { responseMimeType: 'application/json', [schemaField]: schema, temperature: 0.2 },
  });
}


describe('generateContent: analysis under a schema', () => {
  it('answers JSON that validates under responseSchema, derived from the image bytes', async () => {
    const first = await uploadPng(emulator.client, 'character-a');
    const second = await uploadPng(emulator.client, 'character-b');
    const answerA = await analyse(emulator.client, first.uri ?? '');
    const answerA2 = await analyse(emulator.client, first.uri ?? '');
    const answerB = await analyse(emulator.client, second.uri ?? '');
    const recordA = recordSchema.parse(JSON.parse(answerA.text ?? ''));
    const recordB = recordSchema.parse(JSON.parse(answerB.text ?? ''));
    expect(answerA2.text).toBe(answerA.text);
    expect(recordA).not.toEqual(recordB);
    expect(Object.keys(recordA)).toEqual(openApiSchema.propertyOrdering);
    expect(answerA.candidates?.[0]?.finishReason).toBe('STOP');
    expect(answerA.modelVersion).toBe('gemini-3-flash-preview');
    expect(answerA.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
    expect(answerA.responseId).toBeTruthy();
  });

  it('answers the same record for the same bytes uploaded twice under different names', async () => {
    const bytes = createSamplePng('twin');
    const one = await emulator.client.files.upload({ file: new Blob([bytes]), config: { mimeType: 'image/png', displayName: 'one.png' } });
    const two = await emulator.client.files.upload({ file: new Blob([bytes]), config: { mimeType: 'image/png', displayName: 'two.png' } });
    expect((await analyse(emulator.client, one.uri ?? '')).text).toBe((await analyse(emulator.client, two.uri ?? '')).text);
  });

  it('answers JSON that validates under responseJsonSchema (what zod 4 generates)', async () => {
    const file = await uploadPng(emulator.client, 'json-schema');
    const answer = await analyse(emulator.client, file.uri ?? '', 'responseJsonSchema');
    expect(() => recordSchema.parse(JSON.parse(answer.text ?? ''))).not.toThrow();
  });

  it('rejects an unsupported schema keyword with 400 INVALID_ARGUMENT', async () => {
    const file = await uploadPng(emulator.client, 'bad-schema');
    const error = await expectApiError(
      emulator.client.models.generateContent({
        model: 'gemini-3-flash-preview',
        contents: [{ role: 'user', parts: [{ fileData: { fileUri: file.uri ?? '', mimeType: 'image/png' } }] }],
        config: { responseMimeType: 'application/json', responseJsonSchema: { type: 'object', allOf: [{ type: 'object' }] } },
      }),
    );
    expect(error.status).toBe(400);
    expect(error.message).toContain('INVALID_ARGUMENT');
    expect(error.message).toContain('allOf');

    const raw = await emulator.request('/v1beta/models/gemini-3-flash-preview:generateContent', {
      json: {
        contents: [{ parts: [{ text: 'x' }] }],
        generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', additionalProperties: false } },
      },
    });
    expect(raw.status).toBe(400);
    expect(JSON.stringify(await raw.json())).toContain('additionalProperties');
  });

  it('answers plain text describing the referenced image when no schema is asked for', async () => {
    const file = await uploadPng(emulator.client, 'plain');
    const answer = await emulator.client.models.generateContent({
      model: 'gemini-3-flash-preview',
      contents: [{ role: 'user', parts: [{ text: 'Who is this?' }, { fileData: { fileUri: file.uri ?? '', mimeType: 'image/png' } }] }],
    });
    expect(answer.text).toMatch(/64x96 PNG/);
  });

  it('reads proto-JSON snake_case fields and inline JPEG data alike', async () => {
    const jpeg = createSampleJpeg({ width: 40, height: 30 });
    const response = await emulator.request('/v1beta/models/gemini-3-flash-preview:generateContent', {
      json: {
        contents: [{ role: 'user', parts: [{ text: 'hi' }, { inline_data: { mime_type: 'image/jpeg', data: jpeg.toString('base64') } }] }],
        generation_config: { response_mime_type: 'text/plain', thinking_config: { thinking_level: 'low' } },
      },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { candidates: { content: { parts: { text: string }[] } }[] };
    expect(body.candidates[0]?.content.parts[0]?.text).toMatch(/40x30 JPEG/);
  });

  it('rejects a field the request message does not have, like an SDK-style config', async () => {
    const response = await emulator.request('/v1beta/models/gemini-3-flash-preview:generateContent', {
      json: { contents: [{ parts: [{ text: 'hi' }] }], config: { temperature: 0 } },
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { message: string; status: string } };
    expect(body.error.status).toBe('INVALID_ARGUMENT');
    expect(body.error.message).toContain('Unknown name "config"');
  });

  it('answers 400 for bytes that are not a decodable image, and 403 for an expired or unknown file', async () => {
    const notImage = await emulator.client.files.upload({ file: new Blob(['%PDF-1.7 not an image']), config: { mimeType: 'image/png' } });
    const broken = await expectApiError(analyse(emulator.client, notImage.uri ?? ''));
    expect(broken.status).toBe(400);
    expect(broken.message).toContain('Unable to process input image');

    const truncated = createSamplePng('truncated').subarray(0, 60);
    const truncatedFile = await emulator.client.files.upload({ file: new Blob([truncated]), config: { mimeType: 'image/png' } });
    expect((await expectApiError(analyse(emulator.client, truncatedFile.uri ?? ''))).status).toBe(400);

    const file = await uploadPng(emulator.client, 'soon-expired');
    emulator.clock.advance(48 * 3600 * 1000);
    const expired = await expectApiError(analyse(emulator.client, file.uri ?? ''));
    expect(expired.status).toBe(403);
    expect(expired.message).toContain('PERMISSION_DENIED');
  });

  it('takes only the uri the Files API handed out as fileUri, not the file name', async () => {
    const file = await uploadPng(emulator.client, 'by-name');
    const error = await expectApiError(analyse(emulator.client, file.name ?? ''));
    expect(error.status).toBe(400);
    expect(error.message).toContain('Invalid file URI');
  });

  it('answers 404 for an unknown model, naming it', async () => {
    const error = await expectApiError(emulator.client.models.generateContent({ model: 'gemini-0-nonexistent', contents: 'hi' }));
    expect(error.status).toBe(404);
    expect(error.message).toContain('models/gemini-0-nonexistent is not found for API version v1beta');
  });

  it('counts sync calls and requests per model in the stats', async () => {
    await emulator.client.models.generateContent({ model: 'gemini-3-flash-preview', contents: 'one' });
    await emulator.client.models.generateContent({ model: 'gemini-3-flash-preview', contents: 'two' });
    const stats = await emulator.stats();
    expect(stats['generateContentCalls']).toBe(2);
    expect(stats['requestsByModel']).toEqual({ 'gemini-3-flash-preview': 2 });
  });
});

describe('generateContent: images', () => {
  const imageOf = (data: string | undefined) => inspectImage(Buffer.from(data ?? '', 'base64'));
  const sizes: [string, string, number, number][] = [
    ['1:1', '1K', 1024, 1024],
    ['9:16', '2K', 1536, 2752],
    ['16:9', '1K', 1376, 768],
    ['3:4', '2K', 1792, 2400],
    ['21:9', '1K', 1584, 672],
  ];
  it.each(sizes)('answers gemini-3-pro-image at %s %s with one signed %ix%i JPEG part, as recorded', async (aspectRatio, imageSize, width, height) => {
    const answer = await emulator.client.models.generateContent({
      model: 'gemini-3-pro-image',
      contents: `A knight with a lantern, ${aspectRatio}`,
      config: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio, imageSize } },
    });
    // pydantic-ai's recorded gemini-3-pro-image answer (2026-07-29): one part, JPEG + thoughtSignature, no thoughts.
    const parts = answer.candidates?.[0]?.content?.parts ?? [];
    expect(parts).toHaveLength(1);
    const [final] = parts;
    expect(final?.thought).toBeUndefined();
    expect(final?.thoughtSignature?.length).toBeGreaterThan(1000);
    expect(final?.inlineData?.mimeType).toBe('image/jpeg');
    const bytes = Buffer.from(final?.inlineData?.data ?? '', 'base64');
    // JFIF APP0, then the C2PA manifest in an APP11 segment ('JP'), as the recorded JPEG begins.
    expect(bytes.subarray(0, 20).toString('hex')).toBe('ffd8ffe000104a46494600010101012c012c0000');
    expect(bytes.subarray(20, 22).toString('hex')).toBe('ffeb');
    expect(bytes.subarray(24, 26).toString('latin1')).toBe('JP');
    expect(imageOf(final?.inlineData?.data)).toMatchObject({ ok: true, format: 'jpeg', width, height });
    const usage = answer.usageMetadata;
    expect(usage?.thoughtsTokenCount).toBeGreaterThan(0);
    expect(usage?.candidatesTokensDetails).toEqual([{ modality: 'IMAGE', tokenCount: 1120 }]);
    expect((usage as Record<string, unknown> | undefined)?.['serviceTier']).toBe('standard');
    expect(answer.modelVersion).toBe('gemini-3-pro-image');
    expect(answer.responseId).toBeTruthy();
  });

  it('answers TEXT and IMAGE with a signed text part first, and thought parts only when includeThoughts is asked', async () => {
    const ask = (includeThoughts: boolean) =>
      emulator.client.models.generateContent({
        model: 'gemini-3-pro-image',
        contents: 'An elf archer',
        config: { responseModalities: ['TEXT', 'IMAGE'], ...(includeThoughts ? { thinkingConfig: { includeThoughts: true } } : {}) },
      });
    const plain = (await ask(false)).candidates?.[0]?.content?.parts ?? [];
    expect(plain.map((part) => [part.text !== undefined ? 'text' : 'image', part.thought === true, Boolean(part.thoughtSignature)])).toEqual([
      ['text', false, true],
      ['image', false, true],
    ]);
    const thinking = (await ask(true)).candidates?.[0]?.content?.parts ?? [];
    expect(thinking.map((part) => [part.text !== undefined ? 'text' : 'image', part.thought === true, Boolean(part.thoughtSignature)])).toEqual([
      ['text', true, false],
      ['image', true, false],
      ['text', false, true],
      ['image', false, true],
    ]);
    expect(imageOf(thinking[1]?.inlineData?.data)).toMatchObject({ ok: true, format: 'jpeg', width: 1024, height: 1024 });
  });

  it('answers 4K at four times the 1K size', async () => {
    const answer = await emulator.client.models.generateContent({
      model: 'gemini-3-pro-image',
      contents: 'A wide landscape',
      config: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio: '16:9', imageSize: '4K' } },
    });
    const final = answer.candidates?.[0]?.content?.parts?.at(-1);
    expect(imageOf(final?.inlineData?.data)).toMatchObject({ width: 5504, height: 3072 });
    expect(answer.usageMetadata?.candidatesTokenCount).toBe(2000);
  });

  it('takes the sizes and ratios each image model takes, from the catalog', async () => {
    const ask = (model: string, imageConfig: Record<string, string>) =>
      emulator.client.models.generateContent({ model, contents: 'a banner', config: { responseModalities: ['IMAGE'], imageConfig } });
    const small = await ask('gemini-3.1-flash-image', { aspectRatio: '1:8', imageSize: '512' });
    expect(imageOf(small.candidates?.[0]?.content?.parts?.at(-1)?.inlineData?.data)).toMatchObject({ format: 'jpeg', width: 192, height: 1536 });
    expect(small.usageMetadata?.candidatesTokensDetails).toEqual([{ modality: 'IMAGE', tokenCount: 747 }]);
    for (const [model, imageConfig] of [
      ['gemini-3-pro-image', { imageSize: '512' }],
      ['gemini-3-pro-image', { aspectRatio: '8:1' }],
      ['gemini-3.1-flash-lite-image', { imageSize: '2K' }],
      ['gemini-2.5-flash-image', { imageSize: '2K' }],
    ] as const) {
      const error = await expectApiError(ask(model, imageConfig));
      expect(error.status).toBe(400);
      expect(error.message).toContain(model);
    }
  });

  it('answers gemini-2.5-flash-image with an unsigned PNG and no thought tokens, as recorded', async () => {
    const answer = await emulator.client.models.generateContent({
      model: 'gemini-2.5-flash-image',
      contents: 'a cat',
      config: { responseModalities: ['IMAGE'], thinkingConfig: { includeThoughts: true } },
    });
    const parts = answer.candidates?.[0]?.content?.parts ?? [];
    expect(parts).toHaveLength(1);
    expect(parts[0]?.thoughtSignature).toBeUndefined();
    expect(parts[0]?.inlineData?.mimeType).toBe('image/png');
    expect(readPngDimensions(Buffer.from(parts[0]?.inlineData?.data ?? '', 'base64'))).toEqual({ width: 1024, height: 1024 });
    expect(answer.usageMetadata?.thoughtsTokenCount).toBeUndefined();
    expect(answer.usageMetadata?.candidatesTokensDetails).toEqual([{ modality: 'IMAGE', tokenCount: 1290 }]);
  });

  it('is deterministic per prompt and differs between prompts', async () => {
    const generate = async (text: string) => {
      const answer = await emulator.client.models.generateContent({
        model: 'gemini-3-pro-image',
        contents: text,
        config: { responseModalities: ['TEXT', 'IMAGE'], imageConfig: { aspectRatio: '1:1', imageSize: '1K' } },
      });
      return answer.candidates?.[0]?.content?.parts?.at(-1)?.inlineData?.data;
    };
    const first = await generate('an elf archer');
    expect(await generate('an elf archer')).toBe(first);
    expect(await generate('a dwarf smith')).not.toBe(first);
  });

  it('rejects a lowercase image size and an unknown aspect ratio', async () => {
    for (const imageConfig of [{ imageSize: '2k' }, { aspectRatio: '7:3' }]) {
      const error = await expectApiError(
        emulator.client.models.generateContent({
          model: 'gemini-3-pro-image',
          contents: 'x',
          config: { responseModalities: ['IMAGE'], imageConfig },
        }),
      );
      expect(error.status).toBe(400);
    }
  });

  it('renders 2.5 Flash Image at 1K only', async () => {
    const error = await expectApiError(
      emulator.client.models.generateContent({ model: 'gemini-2.5-flash-image', contents: 'x', config: { responseModalities: ['IMAGE'], imageConfig: { imageSize: '2K' } } }),
    );
    expect(error.status).toBe(400);
  });

  it('rejects image output from a text model', async () => {
    const error = await expectApiError(
      emulator.client.models.generateContent({ model: 'gemini-3-flash-preview', contents: 'x', config: { responseModalities: ['IMAGE'] } }),
    );
    expect(error.status).toBe(400);
    expect(error.message).toContain('response modalities');
  });

  it('answers the finish reason or prompt block that a marker word asks for', async () => {
    const ask = (text: string) =>
      emulator.client.models.generateContent({ model: 'gemini-3-pro-image', contents: text, config: { responseModalities: ['IMAGE'] } });
    const safety = await ask('a portrait [[image-safety]]');
    expect(safety.candidates?.[0]?.finishReason).toBe('IMAGE_SAFETY');
    expect(safety.candidates?.[0]?.content?.parts?.some((part) => part.inlineData) ?? false).toBe(false);
    const noImage = await ask('a portrait [[no-image]]');
    expect(noImage.candidates?.[0]?.finishReason).toBe('NO_IMAGE');
    // vercel/ai's live capture of NO_IMAGE: an empty content object.
    expect(noImage.candidates?.[0]?.content).toEqual({});
    const blocked = await ask('a portrait [[prompt-block]]');
    expect(blocked.candidates).toBeUndefined();
    expect(blocked.promptFeedback?.blockReason).toBe('SAFETY');
  });
});
