import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callWithRetry } from '../../lib/gemini/call-with-retry.ts';
import type { RequestLine } from '../../lib/gemini/line-outcome.ts';
import { createRequestFileUploader } from '../../lib/gemini/upload-request-file.ts';
import { writeRequestFile } from '../../lib/gemini/write-request-file.ts';
import { formatGeminiRequestLine } from '../../lib/gemini/gemini-batch-service.ts';
import { describeCallFailure } from './describe-call-failure.ts';
import type { DoctorContext } from './doctor-context.ts';

export type RequestLinesUpload = { status: 'uploaded'; name: string; sizeBytes: number; mimeType: string } | { status: 'refused'; reason: string };

/**
 * Writes request lines with the batch executor's own writer and uploads the file through its own uploader: the
 * configured MIME type, or the spelling remembered in the backend's folder of the workspace (`context.workspace`, when
 * there is one; it learns there as a run would), falling back on a refusal as a run does. Doctor's one write and one
 * upload of request files, so that what it checks is what a run sends. Errors other than a MIME refusal are thrown.
 */
export async function uploadRequestLines(context: DoctorContext, options: { lines: readonly RequestLine[]; displayName: string }): Promise<RequestLinesUpload> {
  const directory = await mkdtemp(join(tmpdir(), 'chargen-doctor-'));
  try {
    const path = join(directory, `${options.displayName}.jsonl`);
    await writeRequestFile({ path, lines: options.lines, formatLine: formatGeminiRequestLine });
    const uploader = createRequestFileUploader({
      client: context.backend.client,
      workspaceDirectory: context.workspace?.stateDirectory ?? directory,
      configuredMimeType: context.settings.jsonlMimeType,
      retry: context.retry,
      now: Date.now,
      logger: context.logger,
    });
    const upload = await uploader.upload({ path, displayName: options.displayName });
    if (upload.status === 'refused') return upload;
    return { status: 'uploaded', name: upload.fileName, sizeBytes: (await stat(path)).size, mimeType: upload.mimeType };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** Deletes an uploaded file; what went wrong, when it could not (the file then expires 48 h after its upload). */
export async function deleteUploadedFile(context: DoctorContext, name: string): Promise<string | undefined> {
  try {
    await callWithRetry({ operation: `files.delete ${name}`, ...context.retry, call: () => context.backend.client.files.delete({ name }) });
    return undefined;
  } catch (error) {
    return describeCallFailure(`files.delete ${name}`, error);
  }
}
