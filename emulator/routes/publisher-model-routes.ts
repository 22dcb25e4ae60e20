import { notFound } from '../api-error.ts';
import { answerWithContext } from '../batch-runner.ts';
import type { Route } from '../emulator-context.ts';
import { HttpRejection, readJsonBody, sendError, sendJson } from '../http-io.ts';
import { findModel, supportsMethod } from '../model-catalog.ts';
import { createObjectReader } from '../vertex/run-prediction-job.ts';
import { requireBearerToken } from './prediction-job-routes.ts';

const modelPath = '^/(v1beta1|v1)/projects/(?<project>[^/]+)/locations/(?<location>[^/]+)/publishers/google/models/(?<model>[^/:]+)';

/**
 * Vertex AI's synchronous call (`models.generateContent` with `vertexai: true`), answered by the same code as the
 * Gemini API's, with `gs://` references read from the emulator's Cloud Storage. An unknown model gets the real
 * wording (quoted in public reports: "Publisher Model `projects/…/publishers/google/models/…` was not found …").
 */
export const publisherModelRoutes: Route[] = [
  {
    method: 'POST',
    pattern: new RegExp(`${modelPath}:generateContent$`),
    endpoint: 'publisherModels.generateContent',
    requiresKey: false,
    handle: async (context, input) => {
      requireBearerToken(input);
      const { project = '', location = '', model: modelId = '' } = input.parameters;
      const model = findModel(modelId);
      if (!model || !supportsMethod(model, 'generateContent')) {
        throw new HttpRejection(
          notFound(
            `Publisher Model \`projects/${project}/locations/${location}/publishers/google/models/${modelId}\` was not found or your project does not have access to it. Please ensure you are using a valid model version. For more information, see: https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions`,
          ),
        );
      }
      const body = await readJsonBody(input.request, { limitBytes: context.options.limits.maxRequestBodyBytes });
      context.stats.generateContentCalls += 1;
      const result = await answerWithContext(context, model, body, 'sync', createObjectReader(context));
      if (result.ok) sendJson(input.response, 200, result.response);
      else sendError(input.response, result.error);
    },
  },
];
