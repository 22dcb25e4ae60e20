import { describe, expect } from 'vitest';
import { modelCatalog } from '../../../schemas/gemini-models.ts';
import { expectApiError } from '../../support/expect-rejection.ts';
import type { DefineContractCase } from '../test-gemini-backend.ts';

// Moved from test/emulator/models.contract.test.ts.
export function defineModelsCases(contractCase: DefineContractCase): void {
  describe('models.get and models.list, as recorded', () => {
    contractCase('answers models.get with the recorded field set, which the SDK maps to supportedActions', [], async (backend) => {
      const raw = (await (await backend.request('/v1beta/models/gemini-3-flash-preview')).json()) as Record<string, unknown>;
      // The field order and set of the raw probe of 2026-06-12 and maruel/genai Warmup.yaml: no baseModelId.
      expect(Object.keys(raw)).toEqual([
        'name', 'version', 'displayName', 'description', 'inputTokenLimit', 'outputTokenLimit', 'supportedGenerationMethods',
        'temperature', 'topP', 'topK', 'maxTemperature', 'thinking',
      ]);
      expect(raw).toMatchObject({ name: 'models/gemini-3-flash-preview', version: '3-flash-preview-12-2025', temperature: 1, topP: 0.95, topK: 64, maxTemperature: 2, thinking: true });
      const model = await backend.client.models.get({ model: 'gemini-3-pro-image' });
      expect(model.supportedActions).toEqual(['generateContent', 'countTokens', 'batchGenerateContent']);
      expect(model.maxTemperature).toBe(1);
      expect(model.inputTokenLimit).toBe(131072);
      const png = (await (await backend.request('/v1beta/models/gemini-2.5-flash-image')).json()) as Record<string, unknown>;
      expect('thinking' in png).toBe(false);
    });

    contractCase('answers a retired id 404 with the wording of each method', ['unmetered'], async (backend) => {
      const get = await expectApiError(backend.client.models.get({ model: 'gemini-3-pro-image-preview' }));
      expect(get.status).toBe(404);
      expect(JSON.parse(get.message)).toEqual({ error: { code: 404, message: 'Model is not found: models/gemini-3-pro-image-preview for api version v1beta', status: 'NOT_FOUND' } });
      const generate = await expectApiError(backend.client.models.generateContent({ model: 'gemini-3-pro-image-preview', contents: 'x' }));
      expect(JSON.parse(generate.message)).toEqual({
        error: {
          code: 404,
          message: 'models/gemini-3-pro-image-preview is not found for API version v1beta, or is not supported for generateContent. Call ModelService.ListModels to see the list of available models and their supported methods.',
          status: 'NOT_FOUND',
        },
      });
      const batch = await expectApiError(backend.client.batches.create({ model: 'gemini-3-pro-image-preview', src: [{ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }] }));
      expect(batch.status).toBe(404);
      expect(batch.message).toContain('or is not supported for batchGenerateContent');
    });

    contractCase('answers a routed id with its successor, as the changelog of 2026-10-08 says', ['unmetered'], async (backend) => {
      const answer = await backend.client.models.generateContent({ model: 'gemini-3.7-flash', contents: 'hello' });
      expect(answer.modelVersion).toBe('gemini-3.8-flash');
    });

    contractCase('lists every served model, 50 a page unless pageSize says otherwise, and no retired one', ['emulator-content'], async (backend) => {
      const names: string[] = [];
      for await (const model of await backend.client.models.list({ config: { pageSize: 5 } })) names.push(model.name ?? '');
      expect(names).toEqual(modelCatalog.models.map((model) => `models/${model.id}`));
      expect(names).not.toContain('models/gemini-3-pro-image-preview');
      const firstPage = (await (await backend.request('/v1beta/models')).json()) as { models: unknown[]; nextPageToken?: string };
      expect(firstPage.models.length).toBe(Math.min(50, modelCatalog.models.length));
      expect(firstPage.nextPageToken).toBeUndefined();
    });

  });

  describe('text answers of thinking models, as recorded', () => {
    contractCase('signs the JSON text part of a generateContent answer, and adds a thought part only when asked', ['unmetered'], async (backend) => {
      const ask = (includeThoughts: boolean) =>
        backend.client.models.generateContent({
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
}
