import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';
import type { BatchService, ServedJob } from '../../../lib/gemini/batch-service.ts';
import { saveJobRecord, type JobRecord } from '../../../lib/gemini/job-record.ts';
import type { RequestLine } from '../../../lib/gemini/line-outcome.ts';
import { fingerprintChunk, formatDisplayName } from '../../../lib/gemini/plan-chunks.ts';
import { readResultLines, type ResultLine } from '../../../lib/gemini/read-result-lines.ts';
import { createResultFileGate, type FreeBytesReader } from '../../../lib/gemini/result-file-gate.ts';
import { writeRequestFile } from '../../../lib/gemini/write-request-file.ts';
import { downloadedResultPath, requestFileRelativePath } from '../../../lib/store/workspace-layout.ts';
import type { TestEmulator } from '../../support/start-test-emulator.ts';

/** One implementation of the BatchService port, started on its backend, as the shared suite drives it. */
export interface RunningBatchService {
  service: BatchService;
  /** The workspace the service was made for: its folder (records, request and result files) and its id. */
  workspace: { directory: string; id: string };
  /** Moves the backend's clock (job latency, a cancel landing). */
  advance(milliseconds: number): void;
  /** Whether the request file uploaded as `inputName` is still stored, asked of the backend directly. */
  hasRequestFile(inputName: string): Promise<boolean>;
  /** A `fileData.fileUri` of this backend's form that names nothing stored. */
  missingFileUri: string;
  /** A job name of this backend's form that no job has. */
  unknownJobName: string;
  /** The form of a finished job's `resultLocation`. */
  resultLocationPattern: RegExp;
  /** What deleting a request file already deleted does here, as the backend really answers. */
  deleteOfGoneRequestFile: { rejectsWithStatus: 403 | 404 } | 'resolves';
  /** What creating a job from a request file deleted since its upload does here: refused at create, or a job that fails. */
  createFromGoneRequestFile: { rejectsWithStatus: 403 | 404 } | { jobEndsIn: string };
  /** Back to an empty backend and workspace between cases. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface BatchServiceDefinition {
  name: string;
  start(): Promise<RunningBatchService>;
}

/**
 * A contract workspace in a temporary folder beside a test emulator, with the `reset` (an empty emulator and workspace
 * between cases) and `stop` a definition needs.
 */
export async function openEmulatorWorkspace(emulator: TestEmulator): Promise<{ workspace: { directory: string; id: string } } & Pick<RunningBatchService, 'reset' | 'stop'>> {
  const directory = await mkdtemp(join(tmpdir(), 'chargen-batch-service-'));
  return {
    workspace: { directory, id: 'contract' },
    async reset() {
      await emulator.emulator.reset();
      await rm(directory, { recursive: true, force: true });
    },
    async stop() {
      await emulator.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export const contractModel = 'gemini-3-flash-preview';
export const contractStage = 'analyze';

/** Text-only lines under 64-hex keys (the form chargen's keys have, and all Vertex AI labels can carry). */
export function createKeyedLines(count: number, prefix: string): RequestLine[] {
  return Array.from({ length: count }, (_unused, index) => {
    const text = `Describe character ${index} of ${prefix}.`;
    return { key: createHash('sha256').update(text).digest('hex'), request: { contents: [{ role: 'user', parts: [{ text }] }] } };
  });
}

/** A line asking about an image by a URI the backend does not hold: it reads well, and its answer is an error. */
export function createMissingFileLine(fileUri: string): RequestLine {
  const text = `Describe the character in ${fileUri}.`;
  return {
    key: createHash('sha256').update(text).digest('hex'),
    request: { contents: [{ role: 'user', parts: [{ text }, { fileData: { fileUri, mimeType: 'image/png' } }] }] },
  };
}

/**
 * The executor's steps up to a job, as prepare-chunk.ts and submit-chunk.ts take them: the record saved before
 * anything exists, the request file written with the service's line format and uploaded, its name saved, the job
 * created under the deterministic displayName. The job's name is returned, not saved: a crash right after create
 * leaves the record as it is here, for adoption to find the job by its displayName.
 */
export async function submitChunk(options: {
  service: BatchService;
  workspace: { directory: string; id: string };
  lines: readonly RequestLine[];
}): Promise<{ record: JobRecord & { inputFileName: string }; jobName: string }> {
  const record = await uploadChunk(options);
  return { record, jobName: await options.service.createJob(record) };
}

/** The steps before create: the record, the request file, its upload (which must not be refused here). */
export async function uploadChunk(options: {
  service: BatchService;
  workspace: { directory: string; id: string };
  lines: readonly RequestLine[];
}): Promise<JobRecord & { inputFileName: string }> {
  const { service, workspace, lines } = options;
  const keys = lines.map((line) => line.key);
  const fingerprint = fingerprintChunk({ model: contractModel, keys });
  const displayName = formatDisplayName({ workspaceId: workspace.id, stage: contractStage, fingerprint, attempt: 1 });
  const requestFile = requestFileRelativePath(contractStage, displayName);
  const record: JobRecord = { version: 1, displayName, stage: contractStage, model: contractModel, fingerprint, attempt: 1, keys, requestFile, status: 'preparing', createdAt: new Date().toISOString() };
  await saveJobRecord(workspace.directory, record);
  const path = join(workspace.directory, requestFile);
  await writeRequestFile({ path, lines, formatLine: service.formatRequestLine });
  const upload = await service.uploadRequestFile({ path, record });
  if (upload.status !== 'uploaded') throw new Error(`${service.storageLabel} refused the request file: ${upload.reason}`);
  const uploaded = { ...record, inputFileName: upload.inputName };
  await saveJobRecord(workspace.directory, uploaded);
  return uploaded;
}

const finalStates = new Set(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_EXPIRED']);

/**
 * Polls `getJob` until the job is final, moving the backend's clock `stepMilliseconds` between polls (no wall-clock
 * wait but a short pause between polls, and a deadline). A SUCCEEDED job without a result location is not final
 * yet, as the executor reads it. Returns every state seen, in order, and the last answer.
 */
export async function followJob(options: { running: RunningBatchService; jobName: string; stepMilliseconds: number; deadlineMilliseconds?: number }): Promise<{ states: string[]; job: ServedJob }> {
  const deadline = Date.now() + (options.deadlineMilliseconds ?? 15_000);
  const states: string[] = [];
  for (;;) {
    const job = await options.running.service.getJob(options.jobName);
    if (states.at(-1) !== job.state) states.push(job.state);
    if (finalStates.has(job.state) && (job.state !== 'JOB_STATE_SUCCEEDED' || job.resultLocation)) return { states, job };
    if (Date.now() > deadline) throw new Error(`${options.jobName} still ${job.state} after ${states.join(' → ')}`);
    options.running.advance(options.stepMilliseconds);
    await pause(5);
  }
}

/**
 * Downloads a finished job's results as run-batch-job.ts does (a result-file gate's slot held, the destination the
 * workspace's downloads path, whose folder need not exist yet) and reads them back with the executor's reader.
 */
export async function downloadResultLines(options: { running: RunningBatchService; record: JobRecord; resultLocation: string; readFreeBytes?: FreeBytesReader }): Promise<ResultLine[]> {
  const { running, record, resultLocation } = options;
  const slot = await createResultFileGate({ maxFiles: 1, ...(options.readFreeBytes ? { readFreeBytes: options.readFreeBytes } : {}) }).acquire();
  const destination = downloadedResultPath(running.workspace.directory, record.stage, record.displayName);
  try {
    await running.service.downloadResults({ record, resultLocation, destination, slot });
  } finally {
    slot.release();
  }
  const lines: ResultLine[] = [];
  for await (const line of readResultLines(destination)) lines.push(line);
  return lines;
}

/** The keys of result lines of one kind, sorted, for comparing sets. */
export function keysOfKind(lines: readonly ResultLine[], kind: ResultLine['kind']): string[] {
  return lines.flatMap((line) => (line.kind === kind && line.key !== undefined ? [line.key] : [])).sort();
}
