import { notFound } from '../api-error.ts';
import { versionPattern, type Route } from '../emulator-context.ts';
import { HttpRejection, sendJson } from '../http-io.ts';
import { findModel, listServedModels } from '../model-catalog.ts';
import type { ServedModel } from '../../schemas/gemini-models.ts';
import { pageOf } from './paging.ts';

/**
 * A Model resource as the real API writes it (a raw probe of 2026-06-12 and maruel/genai Warmup.yaml, 2026-08-17):
 * in this field order, numbers as numbers, no `baseModelId` (which the REST reference calls required), the sampling
 * defaults every Gemini 3 model reports, and `thinking` only when true.
 */
function toModelResource(model: ServedModel): Record<string, unknown> {
  return {
    name: `models/${model.id}`,
    version: model.version,
    displayName: model.displayName,
    description: model.description,
    inputTokenLimit: model.inputTokenLimit,
    outputTokenLimit: model.outputTokenLimit,
    supportedGenerationMethods: model.methods,
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: model.maxTemperature,
    ...(model.thinking ? { thinking: true } : {}),
  };
}

export const modelInfoRoutes: Route[] = [
  {
    method: 'GET',
    pattern: new RegExp(`^/${versionPattern}/models/(?<model>[^/:]+)$`),
    endpoint: 'models.get',
    requiresKey: true,
    handle: async (_context, input) => {
      const name = input.parameters['model'] ?? '';
      // A routed id (gemini-3.7-flash) answers as its successor; what models.get says of it is unrecorded.
      const model = findModel(name);
      // Not the generateContent wording: users quote "Model is not found: models/x for api version v1beta".
      if (!model) throw new HttpRejection(notFound(`Model is not found: models/${name} for api version ${input.version}`));
      sendJson(input.response, 200, toModelResource(model.served));
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/${versionPattern}/models$`),
    endpoint: 'models.list',
    requiresKey: true,
    handle: async (_context, input) => {
      // 50 a page unless pageSize says otherwise, at most 1000 (REST reference; the probe's first page held 50).
      const page = pageOf({ items: [...listServedModels()], url: input.url, defaultPageSize: 50, maxPageSize: 1000 });
      sendJson(input.response, 200, {
        models: page.items.map(toModelResource),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      });
    },
  },
];
