import { invalidArgument, notFound, resourceExhausted } from '../api-error.ts';
import { answerWithContext } from '../batch-runner.ts';
import type { BatchSource } from '../batch-store.ts';
import { startBatchJob } from '../start-batch-job.ts';
import { versionPattern, type EmulatorContext, type Route, type RouteInput } from '../emulator-context.ts';
import { HttpRejection, isPlainObject, readJsonBody, sendError, sendJson } from '../http-io.ts';
import { findModel, supportsMethod, type ModelInfo } from '../model-catalog.ts';
import { toCamelCase } from '../normalize-request.ts';
import { validateRequestFile } from '../validate-request-file.ts';
import { toOperation } from './operation.ts';

/**
 * The model a call names, if it is served and takes the method: otherwise the real API's 404 (maruel/genai
 * ErrorResponse.yaml, 2026-05: "… or is not supported for generateContent. Call ModelService.ListModels …"), which is
 * also what a retired id gets.
 */
function requireModel(input: RouteInput, method: string): ModelInfo {
  const name = input.parameters['model'] ?? '';
  const model = findModel(name);
  if (!model || !supportsMethod(model, method)) {
    throw new HttpRejection(
      notFound(`models/${name} is not found for API version ${input.version}, or is not supported for ${method}. Call ModelService.ListModels to see the list of available models and their supported methods.`),
    );
  }
  return model;
}

/** Reads an object's fields by their camelCase names, rejecting names the message does not have. */
function readFields(input: unknown, allowed: readonly string[], path: string): Record<string, unknown> {
  if (!isPlainObject(input)) throw new HttpRejection(invalidArgument(`Invalid JSON payload received. Expected an object at '${path}'.`));
  const output: Record<string, unknown> = {};
  for (const [rawName, value] of Object.entries(input)) {
    const name = toCamelCase(rawName);
    if (!allowed.includes(name)) {
      throw new HttpRejection(invalidArgument(`Invalid JSON payload received. Unknown name "${rawName}" at '${path}': Cannot find field.`));
    }
    output[name] = value;
  }
  return output;
}

async function readBatchSource(context: EmulatorContext, inputConfig: unknown): Promise<{ source: BatchSource; requestCount: number }> {
  const config = readFields(inputConfig, ['fileName', 'requests'], 'batch.input_config');
  if (typeof config['fileName'] === 'string') {
    const fileName = config['fileName'];
    const id = fileName.startsWith('files/') ? fileName.slice('files/'.length) : fileName;
    const file = context.files.findLive(id);
    if (!file) throw new HttpRejection(notFound(`File ${fileName} was not found or has expired.`));
    // The whole file is parsed before a job exists: any bad line is a 400 and nothing is created (inspect_ai #3257).
    const { requestCount, errors } = await validateRequestFile(context.files.openRead(file));
    if (errors.length > 0) throw new HttpRejection(invalidArgument(errors.join('\n')));
    return { source: { kind: 'file', fileId: id }, requestCount };
  }
  if (config['requests'] !== undefined) {
    const wrapper = readFields(config['requests'], ['requests'], 'batch.input_config.requests');
    const requests = wrapper['requests'];
    if (!Array.isArray(requests) || requests.length === 0) {
      throw new HttpRejection(invalidArgument('* BatchGenerateContentRequest.batch.input_config.requests.requests: at least one request is required.'));
    }
    return { source: { kind: 'inline', requests }, requestCount: requests.length };
  }
  throw new HttpRejection(invalidArgument('* BatchGenerateContentRequest.batch.input_config: either file_name or requests must be set.'));
}

async function createBatch(context: EmulatorContext, input: RouteInput): Promise<void> {
  const model = requireModel(input, 'batchGenerateContent');
  const limit = context.options.limits.maxInlineBatchBytes;
  const body = await readJsonBody(input.request, {
    limitBytes: limit,
    tooLargeMessage: `Request payload size exceeds the limit: ${limit} bytes. Use a file (input_config.file_name) for large batches.`,
  });
  const request = readFields(body, ['batch'], 'request');
  const batch = readFields(request['batch'] ?? {}, ['displayName', 'inputConfig', 'model', 'priority', 'webhookConfig', 'name'], 'batch');
  const { source, requestCount } = await readBatchSource(context, batch['inputConfig']);
  const timings = context.timings();
  if (context.batches.countActive({ now: context.clock.now(), timings }) >= context.options.limits.maxConcurrentBatches) {
    throw new HttpRejection(
      resourceExhausted({
        retryDelaySeconds: context.faults.config().retryDelaySeconds,
        message: `You have reached the maximum of ${context.options.limits.maxConcurrentBatches} concurrent batch jobs. Wait for a job to finish before creating another.`,
      }),
    );
  }
  const displayName = typeof batch['displayName'] === 'string' ? batch['displayName'] : undefined;
  const job = startBatchJob(context, { store: context.batches, id: context.generateId(36), model: model.name, ...(displayName !== undefined ? { displayName } : {}), source, requestCount });
  sendJson(input.response, 200, toOperation(job, { context }));
}

export const modelRoutes: Route[] = [
  {
    method: 'POST',
    pattern: new RegExp(`^/${versionPattern}/models/(?<model>[^/:]+):generateContent$`),
    endpoint: 'models.generateContent',
    requiresKey: true,
    handle: async (context, input) => {
      const model = requireModel(input, 'generateContent');
      const body = await readJsonBody(input.request, { limitBytes: context.options.limits.maxRequestBodyBytes });
      context.stats.generateContentCalls += 1;
      const result = await answerWithContext(context, model, body, 'sync');
      if (result.ok) sendJson(input.response, 200, result.response);
      else sendError(input.response, result.error);
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/${versionPattern}/models/(?<model>[^/:]+):batchGenerateContent$`),
    endpoint: 'batches.create',
    requiresKey: true,
    handle: createBatch,
  },
];
