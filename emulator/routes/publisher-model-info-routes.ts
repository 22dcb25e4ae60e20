import { notFound } from '../api-error.ts';
import type { Route } from '../emulator-context.ts';
import { HttpRejection, sendJson } from '../http-io.ts';
import { findModel, listServedModels } from '../model-catalog.ts';
import type { ServedModel } from '../../schemas/gemini-models.ts';
import { pageOf } from './paging.ts';
import { requireBearerToken } from './prediction-job-routes.ts';

/**
 * A PublisherModel as Vertex AI's `publishers.models.get` writes it, in the fields public code quotes of real answers
 * (name, versionId, openSourceCategory, launchStage); the rest of the resource (supportedActions, predictSchemata,
 * publisherModelTemplate…) is unrecorded and left out. The SDK keeps name, displayName, description and versionId.
 */
function toPublisherModelResource(model: ServedModel): Record<string, unknown> {
  return {
    name: `publishers/google/models/${model.id}`,
    versionId: 'default',
    openSourceCategory: 'PROPRIETARY',
    launchStage: model.stage === 'preview' ? 'PUBLIC_PREVIEW' : 'GA',
  };
}

/**
 * Vertex AI's `models.get` and `models.list` (`vertexai: true`): the SDK sends `GET /{version}/publishers/google/models
 * [/id]` with no project or location in the path (base models take none; the location is the real host's,
 * `{location}-aiplatform.googleapis.com`), so one catalog answers for every location here. An unknown model gets the
 * wording of a real 404 quoted in python-aiplatform#3574.
 */
export const publisherModelInfoRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/(v1beta1|v1)\/publishers\/google\/models\/(?<model>[^/:]+)$/,
    endpoint: 'publisherModels.get',
    requiresKey: false,
    handle: async (_context, input) => {
      requireBearerToken(input);
      const id = input.parameters['model'] ?? '';
      const model = findModel(id);
      if (!model) throw new HttpRejection(notFound(`Publisher Model \`publishers/google/models/${id}\` is not found.`));
      sendJson(input.response, 200, toPublisherModelResource(model.served));
    },
  },
  {
    method: 'GET',
    pattern: /^\/(v1beta1|v1)\/publishers\/google\/models$/,
    endpoint: 'publisherModels.list',
    requiresKey: false,
    handle: async (_context, input) => {
      requireBearerToken(input);
      // The real page size without pageSize is unrecorded: 100 here, at most 1000.
      const page = pageOf({ items: [...listServedModels()], url: input.url, defaultPageSize: 100, maxPageSize: 1000 });
      sendJson(input.response, 200, {
        publisherModels: page.items.map(toPublisherModelResource),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      });
    },
  },
];
