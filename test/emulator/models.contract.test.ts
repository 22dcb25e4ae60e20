import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelCatalog } from '../../schemas/gemini-models.ts';
import { expectApiError } from '../support/expect-rejection.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';

let emulator: TestEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => emulator.close());

describe('models.get and models.list, as recorded', () => {
  it('answers models.get with the recorded field set, which the SDK maps to supportedActions', async () => {
    const raw = (await (await emulator.request('/v1beta/models/gemini-3-flash-preview')).json()) as Record<string, unknown>;
    // The field order and set of the raw probe of 2026-06-12 and maruel/genai Warmup.yaml: no baseModelId.
    expect(Object.keys(raw)).toEqual([
      'name', 'version', 'displayName', 'description', 'inputTokenLimit', 'outputTokenLimit', 'supportedGenerationMethods',
      'temperature', 'topP', 'topK', 'maxTemperature', 'thinking',
    ]);
    expect(raw).toMatchObject({ name: 'models/gemini-3-flash-preview', version: '3-flash-preview-12-2025', temperature: 1, topP: 0.95, topK: 64, maxTemperature: 2, thinking: true });
    const model = await emulator.client.models.get({ model: 'gemini-3-pro-image' });
    expect(model.supportedActions).toEqual(['generateContent', 'countTokens', 'batchGenerateContent']);
    expect(model.maxTemperature).toBe(1);
    expect(model.inputTokenLimit).toBe(131072);
    const png = (await (await emulator.request('/v1beta/models/gemini-2.5-flash-image')).json()) as Record<string, unknown>;
    expect('thinking' in png).toBe(false);
  });

  it('answers a retired id 404 with the wording of each method', async () => {
    const get = await expectApiError(emulator.client.models.get({ model: 'gemini-3-pro-image-preview' }));
    expect(get.status).toBe(404);
    expect(JSON.parse(get.message)).toEqual({ error: { code: 404, message: 'Model is not found: models/gemini-3-pro-image-preview for api version v1beta', status: 'NOT_FOUND' } });
    const generate = await expectApiError(emulator.client.models.generateContent({ model: 'gemini-3-pro-image-preview', contents: 'x' }));
    expect(JSON.parse(generate.message)).toEqual({
      error: {
        code: 404,
        message: 'models/gemini-3-pro-image-preview is not found for API version v1beta, or is not supported for generateContent. Call ModelService.ListModels to see the list of available models and their supported methods.',
        status: 'NOT_FOUND',
      },
    });
    const batch = await expectApiError(emulator.client.batches.create({ model: 'gemini-3-pro-image-preview', src: [{ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }] }));
    expect(batch.status).toBe(404);
    expect(batch.message).toContain('or is not supported for batchGenerateContent');
  });

  it('answers a routed id with its successor, as the changelog of 2026-10-08 says', async () => {
    const answer = await emulator.client.models.generateContent({ model: 'gemini-3.7-flash', contents: 'hello' });
    expect(answer.modelVersion).toBe('gemini-3.8-flash');
  });

  it('lists every served model, 50 a page unless pageSize says otherwise, and no retired one', async () => {
    const names: string[] = [];
    for await (const model of await emulator.client.models.list({ config: { pageSize: 5 } })) names.push(model.name ?? '');
    expect(names).toEqual(modelCatalog.models.map((model) => `models/${model.id}`));
    expect(names).not.toContain('models/gemini-3-pro-image-preview');
    const firstPage = (await (await emulator.request('/v1beta/models')).json()) as { models: unknown[]; nextPageToken?: string };
    expect(firstPage.models.length).toBe(Math.min(50, modelCatalog.models.length));
    expect(firstPage.nextPageToken).toBeUndefined();
  });
});

describe('text answers of thinking models, as recorded', () => {
  it('signs the JSON text part of a generateContent answer, and adds a thought part only when asked', async () => {
    const ask = (includeThoughts: boolean) =>
      emulator.client.models.generateContent({
        model: 'gemini-3-flash-preview',
        contents: 'Describe a knight.',
        config: { responseMimeType: 'application/json', ...(includeThoughts ? { thinkingConfig: { includeThoughts: true } } : {}) },
      });
    const plain = await ask(false);
    const parts = plain.candidates?.[0]?.content?.parts ?? [];
    expect(parts).toHaveLength(1);
    expect(parts[0]?.thoughtSignature).toBeTruthy();
    expect(() => JSON.parse(parts[0]?.text ?? '')).not.toThrow();
    expect((plain.usageMetadata as Record<string, unknown> | undefined)?.['serviceTier']).toBe('standard');
    expect(plain.usageMetadata?.candidatesTokensDetails).toBeUndefined();
    const thinking = (await ask(true)).candidates?.[0]?.content?.parts ?? [];
    expect(thinking.map((part) => [part.thought === true, Boolean(part.thoughtSignature)])).toEqual([
      [true, false],
      [false, true],
    ]);
  });
});
