import type { GoogleGenAI } from '@google/genai';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callWithRetry, type RetryEnvironment, type RetryPolicy } from '../gemini/call-with-retry.ts';
import type { RequestLine } from '../gemini/line-outcome.ts';
import { createRequestFileUploader } from '../gemini/upload-request-file.ts';
import { writeRequestFile } from '../gemini/write-request-file.ts';
import type { Logger } from '../logger.ts';
import { describeCallFailure } from './describe-call-failure.ts';

interface CallOptions {
  client: GoogleGenAI;
  retry: { policy: RetryPolicy; environment: RetryEnvironment };
}

export type RequestLinesUpload = { status: 'uploaded'; name: string; sizeBytes: number; mimeType: string } | { status: 'refused'; reason: string };

/**
 * Writes request lines with the batch executor's own writer and uploads the file through its own uploader: the
 * configured MIME type, or the spelling remembered in the backend's folder of the workspace (`stateDirectory`, when
 * there is one; it learns there as a run would), falling back on a refusal as a run does. Doctor's one write and one
 * upload of request files, so that what it checks is what a run sends. Errors other than a MIME refusal are thrown.
 */
export async function uploadRequestLines(
  options: CallOptions & { lines: readonly RequestLine[]; mimeType: string; displayName: string; stateDirectory: string | undefined; logger: Logger },
): Promise<RequestLinesUpload> {
  const directory = await mkdtemp(join(tmpdir(), 'chargen-doctor-'));
  try {
    const path = join(directory, `${options.displayName}.jsonl`);
    await writeRequestFile(path, options.lines);
    const uploader = createRequestFileUploader({
      client: options.client,
      workspaceDirectory: options.stateDirectory ?? directory,
      configuredMimeType: options.mimeType,
      retry: options.retry,
      now: Date.now,
      logger: options.logger,
    });
    const upload = await uploader.upload({ path, displayName: options.displayName });
    if (upload.status === 'refused') return upload;
    return { status: 'uploaded', name: upload.fileName, sizeBytes: (await stat(path)).size, mimeType: upload.mimeType };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** Deletes an uploaded file; what went wrong, when it could not (the file then expires 48 h after its upload). */
export async function deleteUploadedFile(options: CallOptions & { name: string }): Promise<string | undefined> {
  try {
    await callWithRetry({ operation: `files.delete ${options.name}`, ...options.retry, call: () => options.client.files.delete({ name: options.name }) });
    return undefined;
  } catch (error) {
    return describeCallFailure(`files.delete ${options.name}`, error);
  }
}
