import { notFound, type RpcStatus } from '../api-error.ts';
import { computeCancelTime, stateOf, terminalStates, type BatchJob } from '../batch-store.ts';
import { startBatchJob } from '../start-batch-job.ts';
import type { EmulatorContext, Route, RouteInput } from '../emulator-context.ts';
import { HttpRejection, isPlainObject, readJsonBody, sendJson } from '../http-io.ts';
import { findModel, supportsMethod } from '../model-catalog.ts';
import { predictionJobName, predictionJobState, storageSourceOf, toPredictionJobResource } from '../vertex/prediction-job-resource.ts';
import { parseStorageUri } from '../vertex/run-prediction-job.ts';
import { pageOf } from './paging.ts';

const collection = '^/(v1beta1|v1)/projects/(?<project>[^/]+)/locations/(?<location>[^/]+)/batchPredictionJobs';

function badRequest(message: string): RpcStatus {
  return { httpStatus: 400, status: 'INVALID_ARGUMENT', message };
}

/**
 * Vertex AI takes an OAuth access token, never an API key here; without one the real front end answers 401 in these
 * words. The token itself is not checked (nor logged): the emulator has no accounts.
 */
export function requireBearerToken(input: RouteInput): void {
  const header = input.request.headers['authorization'];
  if (typeof header === 'string' && /^Bearer \S+/.test(header)) return;
  throw new HttpRejection({
    httpStatus: 401,
    status: 'UNAUTHENTICATED',
    message:
      'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
  });
}

/** Vertex ids are decimal numbers (the SDK accepts a bare id only if it is all digits): 19 of them, from the id source. */
function generateNumericId(context: EmulatorContext): string {
  const digits = Array.from(context.generateId(19), (character) => String(character.charCodeAt(0) % 10)).join('');
  return `${(Number(digits[0]) % 9) + 1}${digits.slice(1)}`;
}

function requireJob(context: EmulatorContext, input: RouteInput): BatchJob {
  const job = context.predictionJobs.find(input.parameters['id'] ?? '');
  const source = job ? storageSourceOf(job) : undefined;
  if (!job || !source || source.project !== input.parameters['project'] || source.location !== input.parameters['location']) {
    throw new HttpRejection(notFound(`The BatchPredictionJob does not exist.`));
  }
  return job;
}

function readStringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.length > 0 && value.every((entry) => typeof entry === 'string') ? (value as string[]) : undefined;
}

/** The fields of a create call: a publisher model of the catalog, jsonl from Cloud Storage in, jsonl to Cloud Storage out. */
function readCreateBody(body: unknown): { modelId: string; uris: string[]; outputUriPrefix: string; displayName: string } {
  if (!isPlainObject(body)) throw new HttpRejection(badRequest('Invalid JSON payload received. Expected an object.'));
  const modelName = typeof body['model'] === 'string' ? body['model'] : '';
  const modelId = /^(?:projects\/[^/]+\/locations\/[^/]+\/)?publishers\/google\/models\/([^/]+)$/.exec(modelName)?.[1];
  const model = modelId === undefined ? undefined : findModel(modelId);
  if (!model || !supportsMethod(model, 'generateContent')) {
    // The captured answer to an unknown model (2026-09): 404 `The PublisherModel gemini-does-not-exist does not exist.`
    throw new HttpRejection(notFound(`The PublisherModel ${modelId ?? modelName} does not exist.`));
  }
  const inputConfig = isPlainObject(body['inputConfig']) ? body['inputConfig'] : {};
  const gcsSource = isPlainObject(inputConfig['gcsSource']) ? inputConfig['gcsSource'] : {};
  const uris = readStringList(gcsSource['uris']);
  if (inputConfig['instancesFormat'] !== 'jsonl' || !uris || !uris.every((uri) => parseStorageUri(uri))) {
    throw new HttpRejection(badRequest('inputConfig must give instancesFormat "jsonl" and gcsSource.uris of gs:// objects.'));
  }
  const outputConfig = isPlainObject(body['outputConfig']) ? body['outputConfig'] : {};
  const destination = isPlainObject(outputConfig['gcsDestination']) ? outputConfig['gcsDestination'] : {};
  const outputUriPrefix = destination['outputUriPrefix'];
  if (outputConfig['predictionsFormat'] !== 'jsonl' || typeof outputUriPrefix !== 'string' || !/^gs:\/\/[^/]+/.test(outputUriPrefix)) {
    throw new HttpRejection(badRequest('outputConfig must give predictionsFormat "jsonl" and gcsDestination.outputUriPrefix gs://….'));
  }
  const displayName = body['displayName'];
  if (typeof displayName !== 'string' || displayName === '') throw new HttpRejection(badRequest('displayName is required.'));
  return { modelId: model.name, uris, outputUriPrefix, displayName };
}

async function createPredictionJob(context: EmulatorContext, input: RouteInput): Promise<void> {
  requireBearerToken(input);
  const body = await readJsonBody(input.request, { limitBytes: context.options.limits.maxInlineBatchBytes });
  const { modelId, uris, outputUriPrefix, displayName } = readCreateBody(body);
  const job = startBatchJob(context, {
    store: context.predictionJobs,
    id: generateNumericId(context),
    model: modelId,
    displayName,
    source: { kind: 'storage', project: input.parameters['project'] ?? '', location: input.parameters['location'] ?? '', uris, outputUriPrefix },
    // Counted as the lines are read: unlike the Gemini API, the input is not read at create.
    requestCount: 0,
  });
  sendJson(input.response, 200, toPredictionJobResource(job, context));
}

async function cancelPredictionJob(context: EmulatorContext, input: RouteInput): Promise<void> {
  requireBearerToken(input);
  input.request.resume();
  const job = requireJob(context, input);
  const timing = { now: context.clock.now(), timings: context.timings() };
  if (terminalStates.has(stateOf(job, timing))) {
    const state = predictionJobState(job, { now: timing.now, context });
    throw new HttpRejection({ httpStatus: 400, status: 'FAILED_PRECONDITION', message: `Cannot cancel ${predictionJobName(job)} in state ${state}.` });
  }
  const cancelTime = job.cancelTime === undefined ? computeCancelTime(job, timing) : undefined;
  if (cancelTime !== undefined) {
    job.cancelTime = cancelTime;
    context.stats.batchesCancelled += 1;
    context.scheduleAdvance(cancelTime - timing.now);
  }
  sendJson(input.response, 200, {});
}

export const predictionJobRoutes: Route[] = [
  { method: 'POST', pattern: new RegExp(`${collection}$`), endpoint: 'batchPredictionJobs.create', requiresKey: false, handle: createPredictionJob },
  {
    method: 'GET',
    pattern: new RegExp(`${collection}/(?<id>[^/:]+)$`),
    endpoint: 'batchPredictionJobs.get',
    requiresKey: false,
    handle: async (context, input) => {
      requireBearerToken(input);
      sendJson(input.response, 200, toPredictionJobResource(requireJob(context, input), context));
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`${collection}$`),
    endpoint: 'batchPredictionJobs.list',
    requiresKey: false,
    handle: async (context, input) => {
      requireBearerToken(input);
      const { project, location } = input.parameters;
      const jobs = context.predictionJobs.list().filter((job) => storageSourceOf(job).project === project && storageSourceOf(job).location === location);
      const page = pageOf({ items: jobs, url: input.url, defaultPageSize: 100, maxPageSize: 1000 });
      sendJson(input.response, 200, {
        ...(page.items.length > 0 ? { batchPredictionJobs: page.items.map((job) => toPredictionJobResource(job, context)) } : {}),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      });
    },
  },
  { method: 'POST', pattern: new RegExp(`${collection}/(?<id>[^/:]+):cancel$`), endpoint: 'batchPredictionJobs.cancel', requiresKey: false, handle: cancelPredictionJob },
];
