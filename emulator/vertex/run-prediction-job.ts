import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import { createInterface } from 'node:readline';
import { notFound, toErrorEnvelope, type RpcStatus } from '../api-error.ts';
import type { AnswerResult, FileLookup } from '../answer/answer-request.ts';
import { answerBatchLine, settleJob, type JobSteps } from '../batch-runner.ts';
import type { BatchJob } from '../batch-store.ts';
import type { EmulatorContext } from '../emulator-context.ts';
import { isPlainObject } from '../http-io.ts';
import type { StoredObject } from '../storage/object-store.ts';
import { findModel, type ModelInfo } from '../model-catalog.ts';
import { importFailurePrefix, outputDirectoryOf, storageSourceOf } from './prediction-job-resource.ts';

/** `gs://bucket/some/name` → its bucket and object name. */
export function parseStorageUri(uri: string): { bucket: string; name: string } | undefined {
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  return match?.[1] && match[2] ? { bucket: match[1], name: match[2] } : undefined;
}

/** References by `gs://` URI, read from the emulator's own Cloud Storage objects (Vertex's way of passing files). */
export function createObjectReader(context: EmulatorContext): (fileUri: string) => Promise<FileLookup> {
  return async (fileUri) => {
    const location = parseStorageUri(fileUri);
    const object = location ? context.storage.objects.find(location.bucket, location.name) : undefined;
    if (!object) return { ok: false, error: notFound(`Object ${fileUri} was not found.`) };
    return { ok: true, bytes: await readFile(object.blobPath), mimeType: object.contentType };
  };
}

/** Output lines are spread over a few parts and joined in a seeded order, so the file is not in input order. */
const partCount = 4;

function seededNumber(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

function partOrder(jobId: string): number[] {
  return Array.from({ length: partCount }, (_, index) => index).sort((left, right) => seededNumber(`${jobId}/${left}`) - seededNumber(`${jobId}/${right}`));
}

/**
 * A per-line error's `status`: the HTTP reason, then the error envelope written with `": "` and `", "` between
 * members, as Google's documented example shows it: `Bad Request: {"error": {"code": 400, "message": "Please use a
 * valid role: user, model.", "status": "INVALID_ARGUMENT"}}`.
 */
function statusText(error: RpcStatus): string {
  const { code, message, status } = toErrorEnvelope(error).error;
  const envelope = `{"error": {"code": ${JSON.stringify(code)}, "message": ${JSON.stringify(message)}, "status": ${JSON.stringify(status)}}}`;
  return `${STATUS_CODES[error.httpStatus] ?? 'Error'}: ${envelope}`;
}

/** `2025-09-19T21:29:47.352+00:00`: milliseconds and a numeric offset, as the documented and captured lines have it. */
function processedTime(epochMilliseconds: number): string {
  return `${new Date(epochMilliseconds).toISOString().slice(0, -1)}+00:00`;
}

/** An input line as the importer takes it: a JSON object whose `request` is an object; anything else fails the job. */
function parseInputLine(text: string): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(text) as unknown;
    return isPlainObject(parsed) && isPlainObject(parsed['request']) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function omitLabels(request: Record<string, unknown>): Record<string, unknown> {
  const { labels: _labels, ...rest } = request;
  return rest;
}

/**
 * One output line: status, processed_time, the echoed request, the response (success only), then the line's other
 * members (a `custom_id` beside `request` was captured coming back; where it sits in the line is a guess).
 */
async function answerPredictionLine(context: EmulatorContext, model: ModelInfo, input: Record<string, unknown>): Promise<{ line: string; result: AnswerResult }> {
  const { request, ...siblings } = input;
  const result = await answerBatchLine(context, model, request, createObjectReader(context));
  const echoed = context.options.quirks.echoLabels || !isPlainObject(request) ? request : omitLabels(request);
  const body = {
    status: result.ok ? '' : statusText(result.error),
    processed_time: processedTime(context.clock.now()),
    request: echoed,
    ...(result.ok ? { response: result.response } : {}),
    ...siblings,
  };
  return { line: `${JSON.stringify(body)}\n`, result };
}

function findInputObject(context: EmulatorContext, uri: string): StoredObject {
  const location = parseStorageUri(uri);
  const object = location ? context.storage.objects.find(location.bucket, location.name) : undefined;
  if (!object) throw new Error(`${importFailurePrefix} Not found: ${uri}`);
  return object;
}

async function* readInputLines(context: EmulatorContext, uri: string): AsyncGenerator<{ text: string; number: number }> {
  const lines = createInterface({ input: context.storage.objects.openRead(findInputObject(context, uri)), crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  for await (const text of lines) {
    number += 1;
    if (text.trim() !== '') yield { text, number };
  }
}

/** The import: every line of every input is read before any is answered, and one bad line fails the whole job. */
async function importInputs(context: EmulatorContext, job: BatchJob): Promise<void> {
  for (const uri of storageSourceOf(job).uris) {
    for await (const { text, number } of readInputLines(context, uri)) {
      if (!parseInputLine(text)) throw new Error(`${importFailurePrefix} ${uri} line ${number}: expected a JSON object with a "request" object.`);
    }
  }
}

async function closeAll(streams: WriteStream[]): Promise<void> {
  await Promise.all(streams.map(async (stream) => {
    stream.end();
    await once(stream, 'finish');
  }));
}

async function joinParts(partPaths: string[], order: number[], outputPath: string): Promise<void> {
  const output = createWriteStream(outputPath);
  for (const index of order) {
    for await (const chunk of createReadStream(partPaths[index] ?? '') as AsyncIterable<Buffer>) {
      if (!output.write(chunk)) await once(output, 'drain');
    }
  }
  await closeAll([output]);
}

async function answerInputs(context: EmulatorContext, job: BatchJob, parts: WriteStream[]): Promise<void> {
  const model = findModel(job.model);
  if (!model) throw new Error(`unknown model ${job.model}`);
  await importInputs(context, job);
  let index = 0;
  for (const uri of storageSourceOf(job).uris) {
    for await (const { text } of readInputLines(context, uri)) {
      if (job.cancelTime !== undefined) return;
      const input = parseInputLine(text);
      if (!input) throw new Error(`${importFailurePrefix} ${uri} changed while the job ran.`);
      const { line, result } = await answerPredictionLine(context, model, input);
      if (result.ok) job.successfulCount += 1;
      else job.failedCount += 1;
      job.requestCount += 1;
      const part = parts[seededNumber(`${job.id}#${index++}`) % partCount];
      if (part && !part.write(line)) await once(part, 'drain');
    }
  }
}

/** Answers every input line into parts on disk, then joins them into the one results file waiting to be published. */
async function runPredictionJob(context: EmulatorContext, job: BatchJob): Promise<void> {
  const partPaths = Array.from({ length: partCount }, (_, index) => context.storage.objects.temporaryPath(`prediction-${job.id}-${index}`));
  const parts = partPaths.map((path) => createWriteStream(path));
  let writeError: Error | undefined;
  for (const part of parts) part.on('error', (error) => (writeError ??= error));
  const outputPath = context.storage.objects.temporaryPath(`prediction-${job.id}`);
  try {
    await answerInputs(context, job, parts);
    await closeAll(parts);
    if (writeError) throw writeError;
    // Joined even when cancelled: a terminated job exports every row it completed (Google's batch overview page).
    await joinParts(partPaths, partOrder(job.id), outputPath);
  } catch (error) {
    for (const part of parts) part.destroy();
    await rm(outputPath, { force: true });
    throw error;
  } finally {
    await Promise.all(partPaths.map((path) => rm(path, { force: true })));
  }
  job.outputTemporaryPath = outputPath;
}

/** Makes the results file the object `{outputUriPrefix}/prediction-model-<time>/predictions.jsonl`. */
async function publishPredictions(context: EmulatorContext, job: BatchJob): Promise<void> {
  if (job.outputTemporaryPath !== undefined) {
    const directory = parseStorageUri(`${outputDirectoryOf(job)}/predictions.jsonl`);
    if (!directory) throw new Error(`job ${job.id} has no Cloud Storage output`);
    await context.storage.objects.commit({
      bucket: directory.bucket,
      name: directory.name,
      contentType: 'application/octet-stream',
      temporaryPath: job.outputTemporaryPath,
      check: () => undefined,
    });
    delete job.outputTemporaryPath;
  }
  job.published = true;
}

export const predictionJobSteps: JobSteps = { run: runPredictionJob, publish: publishPredictions };

/**
 * Moves one job along as a Gemini job moves; besides, once a cancel of a job that had started has landed, exports
 * the rows it completed (the runner stops at the next line once a cancel is asked).
 */
async function settlePredictionJob(context: EmulatorContext, job: BatchJob): Promise<void> {
  await settleJob(context, job, { waitMilliseconds: context.pollWaitMilliseconds, steps: predictionJobSteps });
  if (job.cancelTime === undefined || context.clock.now() < job.cancelTime || job.published || !job.processing) return;
  await job.processing;
  if (job.outputTemporaryPath === undefined) return;
  if (job.successfulCount + job.failedCount === 0) {
    // Cancelled before its first row: nothing to export, no file.
    await rm(job.outputTemporaryPath, { force: true });
    delete job.outputTemporaryPath;
    return;
  }
  job.publishing ??= publishPredictions(context, job);
  await job.publishing;
}

/** Starts the lines of Vertex AI jobs that have reached RUNNING and publishes finished (or cancelled) ones. */
export async function advancePredictionJobs(context: EmulatorContext): Promise<void> {
  await Promise.all(context.predictionJobs.all().map((job) => settlePredictionJob(context, job)));
}
