import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileAccessDenied, internalError, invalidArgument, toLineStatus } from './api-error.ts';
import { answerRequest, type AnswerResult, type FileLookup } from './answer/answer-request.ts';
import { isClockDue, isRunningTime, type BatchJob } from './batch-store.ts';
import { countModelRequest, type EmulatorContext } from './emulator-context.ts';
import { findModel, type ModelInfo } from './model-catalog.ts';
import { normalizeRequest } from './normalize-request.ts';
import { isPlainObject } from './http-io.ts';

/**
 * A `fileData.fileUri` is the `uri` the Files API handed out (`https://…/v1beta/files/abc`); a bare `files/abc`
 * (the file's name) is not a URI, and a pipeline that sends one must fail here as it would on the real API.
 */
export function parseFileId(fileUri: string): string | undefined {
  const match = /^https?:\/\/[^/]+\/(?:v1|v1beta)\/files\/([a-z0-9-]+)$/.exec(fileUri);
  return match?.[1];
}

export function createFileReader(context: EmulatorContext): (fileUri: string) => Promise<FileLookup> {
  return async (fileUri) => {
    const id = parseFileId(fileUri);
    if (id === undefined) return { ok: false, error: invalidArgument(`Invalid file URI ${JSON.stringify(fileUri)}: use the uri the Files API returned.`) };
    const file = context.files.findLive(id);
    if (!file) return { ok: false, error: fileAccessDenied(id) };
    if (file.sizeBytes > context.options.limits.maxRequestBodyBytes) {
      return { ok: false, error: invalidArgument(`File files/${id} is too large to be used in a request.`) };
    }
    try {
      return { ok: true, bytes: await readFile(file.blobPath), mimeType: file.mimeType };
    } catch (error) {
      // Deleted between the look-up and the read.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, error: fileAccessDenied(id) };
      throw error;
    }
  };
}

export async function answerWithContext(
  context: EmulatorContext,
  model: ModelInfo,
  rawRequest: unknown,
  delivery: 'sync' | 'batch',
  readFile: (fileUri: string) => Promise<FileLookup> = createFileReader(context),
): Promise<AnswerResult> {
  const normalized = normalizeRequest(rawRequest);
  countModelRequest(context.stats, model.name);
  if (!normalized.ok) return normalized;
  return answerRequest({
    model,
    request: normalized.request,
    readFile,
    findBlockMarker: (text) => context.faults.findBlockMarker(text),
    delivery,
  });
}

interface LineOutcome {
  key?: string;
  result: AnswerResult;
}

async function answerLine(context: EmulatorContext, model: ModelInfo, line: unknown): Promise<LineOutcome> {
  if (!isPlainObject(line)) {
    return { result: { ok: false, error: invalidArgument('Each line must be a JSON object {"key": ..., "request": ...}.') } };
  }
  const key = typeof line['key'] === 'string' ? line['key'] : undefined;
  const keyPart = key === undefined ? {} : { key };
  const request = 'request' in line ? line['request'] : line;
  return { ...keyPart, result: await answerBatchLine(context, model, request) };
}

/** A batch line's answer, or the INTERNAL error the line-error fault asks for (counted as answered either way). */
export async function answerBatchLine(
  context: EmulatorContext,
  model: ModelInfo,
  request: unknown,
  readFile?: (fileUri: string) => Promise<FileLookup>,
): Promise<AnswerResult> {
  if (context.faults.drawLineError()) {
    countModelRequest(context.stats, model.name);
    return { ok: false, error: internalError() };
  }
  return answerWithContext(context, model, request, 'batch', readFile);
}

function parseLine(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function toOutputLine(outcome: LineOutcome): string {
  const body = outcome.result.ok ? { response: outcome.result.response } : { error: toLineStatus(outcome.result.error) };
  return `${JSON.stringify({ ...body, ...(outcome.key !== undefined ? { key: outcome.key } : {}) })}\n`;
}

function recordOutcome(job: BatchJob, outcome: LineOutcome): void {
  if (outcome.result.ok) job.successfulCount += 1;
  else job.failedCount += 1;
}

async function runFileJob(context: EmulatorContext, job: BatchJob, model: ModelInfo, fileId: string): Promise<void> {
  const input = context.files.findLive(fileId);
  if (!input) throw new Error(`input file ${fileId} vanished`);
  const temporaryPath = context.files.temporaryPath(`batch-${job.id}`);
  const output = createWriteStream(temporaryPath);
  // Without a listener, a failed open or write (disk full) would crash the process instead of failing the job.
  let writeError: Error | undefined;
  output.on('error', (error) => {
    writeError = error;
  });
  try {
    const lines = createInterface({ input: context.files.openRead(input), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const text of lines) {
      if (job.cancelTime !== undefined) break;
      if (text.trim() === '') continue;
      const parsed = parseLine(text);
      const outcome: LineOutcome = parsed.ok
        ? await answerLine(context, model, parsed.value)
        : { result: { ok: false, error: invalidArgument('Invalid JSON payload received: this line is not valid JSON.') } };
      recordOutcome(job, outcome);
      if (!output.write(toOutputLine(outcome))) await once(output, 'drain');
    }
    output.end();
    if (!writeError) await once(output, 'finish');
    if (writeError) throw writeError;
  } catch (error) {
    output.destroy();
    await rm(temporaryPath, { force: true });
    throw error;
  }
  if (job.cancelTime !== undefined) {
    await rm(temporaryPath, { force: true });
    return;
  }
  job.outputTemporaryPath = temporaryPath;
}

async function runInlineJob(context: EmulatorContext, job: BatchJob, model: ModelInfo, requests: unknown[]): Promise<void> {
  const responses: unknown[] = [];
  for (const entry of requests) {
    if (job.cancelTime !== undefined) return;
    const metadata = isPlainObject(entry) && entry['metadata'] !== undefined ? { metadata: entry['metadata'] } : {};
    const request = isPlainObject(entry) ? entry['request'] : undefined;
    const result = await answerBatchLine(context, model, request ?? {});
    recordOutcome(job, { result });
    responses.push(result.ok ? { response: result.response, ...metadata } : { error: toLineStatus(result.error), ...metadata });
  }
  job.inlinedResponses = responses;
}

/** Answers every line of a job; started when the job is RUNNING, its result shown once the clock says it is done. */
async function runBatchJob(context: EmulatorContext, job: BatchJob): Promise<void> {
  const model = findModel(job.model);
  if (!model) throw new Error(`unknown model ${job.model}`);
  if (job.source.kind === 'file') await runFileJob(context, job, model, job.source.fileId);
  else if (job.source.kind === 'inline') await runInlineJob(context, job, model, job.source.requests);
  else throw new Error('a Vertex AI job is run by its own steps');
}

/** How one kind of job is answered and how its results become visible (Gemini's here, Vertex AI's in vertex/). */
export interface JobSteps {
  run(context: EmulatorContext, job: BatchJob): Promise<void>;
  publish(context: EmulatorContext, job: BatchJob): Promise<void>;
}

function startProcessing(context: EmulatorContext, job: BatchJob, steps: JobSteps): void {
  const processing = steps.run(context, job).then(() => {
    job.processed = true;
  }).catch((error: unknown) => {
    job.processingError = error instanceof Error ? error.message : String(error);
  });
  job.processing = processing;
  context.activeWork.add(processing);
  void processing.finally(() => context.activeWork.delete(processing));
}

async function publish(context: EmulatorContext, job: BatchJob): Promise<void> {
  if (job.outputTemporaryPath !== undefined) {
    const outputId = `batch-${job.id}`;
    await context.files.registerGenerated({ id: outputId, mimeType: 'application/jsonl', temporaryPath: job.outputTemporaryPath });
    job.outputFileId = outputId;
    delete job.outputTemporaryPath;
  }
  job.published = true;
}

const geminiSteps: JobSteps = { run: runBatchJob, publish };

/**
 * Moves a job along on the clock: starts answering its lines once it is RUNNING, waits a bounded time for the last
 * line once its time is up (so a poll never hangs on a big job, and a small one is done by the time it is polled),
 * and publishes its results when it has SUCCEEDED.
 */
export async function settleJob(context: EmulatorContext, job: BatchJob, options: { waitMilliseconds: number; steps?: JobSteps }): Promise<void> {
  const steps = options.steps ?? geminiSteps;
  const now = context.clock.now();
  const timings = context.timings();
  if (!job.processing && isRunningTime(job, { now, timings })) startProcessing(context, job, steps);
  if (!job.processing || !isClockDue(job, { now, timings }) || job.outcome !== undefined) return;
  if (!job.processed && job.processingError === undefined && options.waitMilliseconds > 0) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([job.processing, new Promise<void>((resolve) => (timer = setTimeout(resolve, options.waitMilliseconds)))]);
    clearTimeout(timer);
  }
  if (job.processed && !job.published && job.cancelTime === undefined) {
    job.publishing ??= steps.publish(context, job);
    await job.publishing;
  }
}

/** Starts the lines of jobs that have reached RUNNING and publishes finished ones (at every request, and on timers). */
export async function advanceJobs(context: EmulatorContext): Promise<void> {
  await Promise.all(context.batches.all().map((job) => settleJob(context, job, { waitMilliseconds: context.pollWaitMilliseconds })));
}

/** Marks every job cancelled, then waits until no batch work is under way (work added meanwhile too). */
export async function waitForJobs(context: EmulatorContext): Promise<void> {
  const jobs = [...context.batches.all(), ...context.predictionJobs.all()];
  for (const job of jobs) job.cancelTime ??= context.clock.now();
  while (context.activeWork.size > 0) await Promise.all([...context.activeWork]);
  // A cancelled Vertex AI job keeps its rows for export; nothing will publish them now.
  await Promise.all(
    jobs.map(async (job) => {
      if (job.outputTemporaryPath === undefined || job.published) return;
      const path = job.outputTemporaryPath;
      delete job.outputTemporaryPath;
      await rm(path, { force: true });
    }),
  );
}
