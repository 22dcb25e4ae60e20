import type { GoogleGenAI } from '@google/genai';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRequestFile } from '../gemini/batch-executor.ts';
import { callWithRetry, type RetryEnvironment, type RetryPolicy } from '../gemini/call-with-retry.ts';
import type { RequestLine } from '../gemini/line-outcome.ts';
import { describeCallFailure } from './describe-call-failure.ts';

interface CallOptions {
  client: GoogleGenAI;
  retry: { policy: RetryPolicy; environment: RetryEnvironment };
}

/**
 * Writes request lines with the batch executor's own writer and uploads the file as the executor uploads a job's
 * request file (by path, with the MIME type from the settings); returns its `files/…` name and size. Doctor's one
 * write and one upload of request files, so that what it checks is what a run sends, and so that it can move onto a
 * shared request-file upload (a MIME fallback remembered per workspace is under way) in one place.
 */
export async function uploadRequestLines(options: CallOptions & { lines: readonly RequestLine[]; mimeType: string; displayName: string }): Promise<{ name: string; sizeBytes: number }> {
  const directory = await mkdtemp(join(tmpdir(), 'chargen-doctor-'));
  try {
    const path = join(directory, `${options.displayName}.jsonl`);
    await writeRequestFile(path, options.lines);
    const file = await callWithRetry({
      operation: 'files.upload',
      ...options.retry,
      call: () => options.client.files.upload({ file: path, config: { mimeType: options.mimeType, displayName: options.displayName } }),
    });
    if (!file.name) throw new Error('the Files API answered without a file name');
    return { name: file.name, sizeBytes: (await stat(path)).size };
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
