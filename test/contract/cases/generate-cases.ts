import type { GoogleGenAI } from '@google/genai';
import { describe, expect } from 'vitest';
import { z } from 'zod';
import { readPngDimensions } from '../../../emulator/png/encode-png.ts';
import { inspectImage } from '../../../lib/media/inspect-image.ts';
import { expectApiError } from '../../support/expect-rejection.ts';
import { createSampleJpeg, createSamplePng } from '../../support/sample-images.ts';
import type { DefineContractCase } from '../test-gemini-backend.ts';

// Moved from test/emulator/generate.contract.test.ts; the emulator's call counters stay there.

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

export function defineGenerateCases(contractCase: DefineContractCase): void {
  describe('generateContent: analysis under a schema', () => {
    contractCase('answers JSON that validates under responseSchema, derived from the image bytes', ['emulator-content', 'unmetered'], async (backend) => {
      const first = await uploadPng(backend.client, 'character-a');
      const second = await uploadPng(backend.client, 'character-b');
      const answerA = await analyse(backend.client, first.uri ?? '');
      const answerA2 = await analyse(backend.client, first.uri ?? '');
      const answerB = await analyse(backend.client, second.uri ?? '');
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

    contractCase('answers the same record for the same bytes uploaded twice under different names', ['emulator-content', 'unmetered'], async (backend) => {
      const bytes = createSamplePng('twin');
      const one = await backend.client.files.upload({ file: new Blob([bytes]), config: { mimeType: 'image/png', displayName: 'one.png' } });
      const two = await backend.client.files.upload({ file: new Blob([bytes]), config: { mimeType: 'image/png', displayName: 'two.png' } });
      expect((await analyse(backend.client, one.uri ?? '')).text).toBe((await analyse(backend.client, two.uri ?? '')).text);
    });

    contractCase('answers JSON that validates under responseJsonSchema (what zod 4 generates)', ['unmetered'], async (backend) => {
      const file = await uploadPng(backend.client, 'json-schema');
      const answer = await analyse(backend.client, file.uri ?? '', 'responseJsonSchema');
      expect(() => recordSchema.parse(JSON.parse(answer.text ?? ''))).not.toThrow();
    });

    contractCase('rejects an unsupported schema keyword with 400 INVALID_ARGUMENT', ['unmetered'], async (backend) => {
      const file = await uploadPng(backend.client, 'bad-schema');
      const error = await expectApiError(
        backend.client.models.generateContent({
          model: 'gemini-3-flash-preview',
          contents: [{ role: 'user', parts: [{ fileData: { fileUri: file.uri ?? '', mimeType: 'image/png' } }] }],
          config: { responseMimeType: 'application/json', responseJsonSchema: { type: 'object', allOf: [{ type: 'object' }] } },
        }),
      );
      expect(error.status).toBe(400);
      expect(error.message).toContain('INVALID_ARGUMENT');
      expect(error.message).toContain('allOf');

      const raw = await backend.request('/v1beta/models/gemini-3-flash-preview:generateContent', {
        json: {
          contents: [{ parts: [{ text: 'x' }] }],
          generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', additionalProperties: false } },
        },
      });
      expect(raw.status).toBe(400);
      expect(JSON.stringify(await raw.json())).toContain('additionalProperties');
    });

    contractCase('answers plain text describing the referenced image when no schema is asked for', ['emulator-content', 'unmetered'], async (backend) => {
      const file = await uploadPng(backend.client, 'plain');
      const answer = await backend.client.models.generateContent({
        model: 'gemini-3-flash-preview',
        contents: [{ role: 'user', parts: [{ text: 'Who is this?' }, { fileData: { fileUri: file.uri ?? '', mimeType: 'image/png' } }] }],
      });
      expect(answer.text).toMatch(/64x96 PNG/);
    });

    contractCase('reads proto-JSON snake_case fields and inline JPEG data alike', ['emulator-content', 'unmetered'], async (backend) => {
      const jpeg = createSampleJpeg({ width: 40, height: 30 });
      const response = await backend.request('/v1beta/models/gemini-3-flash-preview:generateContent', {
        json: {
          contents: [{ role: 'user', parts: [{ text: 'hi' }, { inline_data: { mime_type: 'image/jpeg', data: jpeg.toString('base64') } }] }],
          generation_config: { response_mime_type: 'text/plain', thinking_config: { thinking_level: 'low' } },
        },
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { candidates: { content: { parts: { text: string }[] } }[] };
      expect(body.candidates[0]?.content.parts[0]?.text).toMatch(/40x30 JPEG/);
    });

    contractCase('rejects a field the request message does not have, like an SDK-style config', ['unmetered'], async (backend) => {
      const response = await backend.request('/v1beta/models/gemini-3-flash-preview:generateContent', {
        json: { contents: [{ parts: [{ text: 'hi' }] }], config: { temperature: 0 } },
      });
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { message: string; status: string } };
      expect(body.error.status).toBe('INVALID_ARGUMENT');
      expect(body.error.message).toContain('Unknown name "config"');
    });

    contractCase('answers 400 for bytes that are not a decodable image, and 403 for an expired or unknown file', ['clock', 'unmetered'], async (backend) => {
      const notImage = await backend.client.files.upload({ file: new Blob(['%PDF-1.7 not an image']), config: { mimeType: 'image/png' } });
      const broken = await expectApiError(analyse(backend.client, notImage.uri ?? ''));
      expect(broken.status).toBe(400);
      expect(broken.message).toContain('Unable to process input image');

      const truncated = createSamplePng('truncated').subarray(0, 60);
      const truncatedFile = await backend.client.files.upload({ file: new Blob([truncated]), config: { mimeType: 'image/png' } });
      expect((await expectApiError(analyse(backend.client, truncatedFile.uri ?? ''))).status).toBe(400);

      const file = await uploadPng(backend.client, 'soon-expired');
      await backend.advanceClock(48 * 3600 * 1000);
      const expired = await expectApiError(analyse(backend.client, file.uri ?? ''));
      expect(expired.status).toBe(403);
      expect(expired.message).toContain('PERMISSION_DENIED');
    });

    contractCase('takes only the uri the Files API handed out as fileUri, not the file name', ['unmetered'], async (backend) => {
      const file = await uploadPng(backend.client, 'by-name');
      const error = await expectApiError(analyse(backend.client, file.name ?? ''));
      expect(error.status).toBe(400);
      expect(error.message).toContain('Invalid file URI');
    });

    contractCase('answers 404 for an unknown model, naming it', ['unmetered'], async (backend) => {
      const error = await expectApiError(backend.client.models.generateContent({ model: 'gemini-0-nonexistent', contents: 'hi' }));
      expect(error.status).toBe(404);
      expect(error.message).toContain('models/gemini-0-nonexistent is not found for API version v1beta');
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
    for (const [aspectRatio, imageSize, width, height] of sizes) {
      contractCase(`answers gemini-3-pro-image at ${aspectRatio} ${imageSize} with one signed ${width}x${height} JPEG part, as recorded`, ['unmetered'], async (backend) => {
        const answer = await backend.client.models.generateContent({
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
    }

    contractCase('answers TEXT and IMAGE with a signed text part first, and thought parts only when includeThoughts is asked', ['unmetered'], async (backend) => {
      const ask = (includeThoughts: boolean) =>
        backend.client.models.generateContent({
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

    contractCase('answers 4K at four times the 1K size', ['unmetered'], async (backend) => {
      const answer = await backend.client.models.generateContent({
        model: 'gemini-3-pro-image',
        contents: 'A wide landscape',
        config: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio: '16:9', imageSize: '4K' } },
      });
      const final = answer.candidates?.[0]?.content?.parts?.at(-1);
      expect(imageOf(final?.inlineData?.data)).toMatchObject({ width: 5504, height: 3072 });
      expect(answer.usageMetadata?.candidatesTokenCount).toBe(2000);
    });

    contractCase('takes the sizes and ratios each image model takes, from the catalog', ['unmetered'], async (backend) => {
      const ask = (model: string, imageConfig: Record<string, string>) =>
        backend.client.models.generateContent({ model, contents: 'a banner', config: { responseModalities: ['IMAGE'], imageConfig } });
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

    contractCase('answers gemini-2.5-flash-image with an unsigned PNG and no thought tokens, as recorded', ['unmetered'], async (backend) => {
      const answer = await backend.client.models.generateContent({
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

    contractCase('is deterministic per prompt and differs between prompts', ['emulator-content', 'unmetered'], async (backend) => {
      const generate = async (text: string) => {
        const answer = await backend.client.models.generateContent({
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

    contractCase('rejects a lowercase image size and an unknown aspect ratio', ['unmetered'], async (backend) => {
      for (const imageConfig of [{ imageSize: '2k' }, { aspectRatio: '7:3' }]) {
        const error = await expectApiError(
          backend.client.models.generateContent({
            model: 'gemini-3-pro-image',
            contents: 'x',
            config: { responseModalities: ['IMAGE'], imageConfig },
          }),
        );
        expect(error.status).toBe(400);
      }
    });

    contractCase('renders 2.5 Flash Image at 1K only', ['unmetered'], async (backend) => {
      const error = await expectApiError(
        backend.client.models.generateContent({ model: 'gemini-2.5-flash-image', contents: 'x', config: { responseModalities: ['IMAGE'], imageConfig: { imageSize: '2K' } } }),
      );
      expect(error.status).toBe(400);
    });

    contractCase('rejects image output from a text model', ['unmetered'], async (backend) => {
      const error = await expectApiError(
        backend.client.models.generateContent({ model: 'gemini-3-flash-preview', contents: 'x', config: { responseModalities: ['IMAGE'] } }),
      );
      expect(error.status).toBe(400);
      expect(error.message).toContain('response modalities');
    });

    contractCase('answers the finish reason or prompt block that a marker word asks for', ['emulator-content', 'unmetered'], async (backend) => {
      const ask = (text: string) =>
        backend.client.models.generateContent({ model: 'gemini-3-pro-image', contents: text, config: { responseModalities: ['IMAGE'] } });
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
}
