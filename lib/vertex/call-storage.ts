import type { Bucket, File } from '@google-cloud/storage';
import { ChargenError, GeminiCallError, InterruptedError } from '../errors.ts';
import { toGcsUri } from './vertex-bucket-layout.ts';
import { callWithRetry, isConnectionError, type RetryEnvironment, type RetryPolicy } from '../gemini/call-with-retry.ts';

export interface StorageRetry {
  policy: RetryPolicy;
  environment: RetryEnvironment;
}

/**
 * How long an upload or a download may go without a byte moving before it is given up and tried again: the default
 * of settings.downloadIdleTimeoutMilliseconds, which a caller passes when it has settings.
 */
export const defaultIdleTimeoutMilliseconds = 2 * 60 * 1000;

const retryableStatuses = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Codes of @google-cloud/storage's own errors that another try can mend: a download whose crc32c did not match, an
 * upload whose hashes did not (the client deleted the object again). FILE_NO_UPLOAD_DELETE is not among them: that
 * object is still there, and a create-only retry would take it for ours.
 */
const retryableClientCodes = new Set(['CONTENT_DOWNLOAD_MISMATCH', 'FILE_NO_UPLOAD']);

/**
 * The HTTP status of a failed Cloud Storage call: the client's ApiError carries it as a numeric `code` (JSON API
 * calls, and a resumable upload's 412), a GaxiosError (a resumable session's start or chunk) as `status` and
 * `response.status` (both seen through @google-cloud/storage 7.22 against the emulator).
 */
function readStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, status, response } = error as { code?: unknown; status?: unknown; response?: { status?: unknown } };
  for (const candidate of [code, status, response?.status]) {
    if (typeof candidate === 'number' && candidate >= 100 && candidate <= 599) return candidate;
  }
  return undefined;
}

/** What went wrong in a Cloud Storage call, as the one error type the executor reads: retryable for 408/429/5xx and lost connections. */
export function toStorageCallError(operation: string, error: unknown): GeminiCallError {
  if (error instanceof GeminiCallError) return error;
  const status = readStatus(error);
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  // chargen's own errors (a stalled download) say themselves whether another try can mend them.
  const isRetryable =
    error instanceof ChargenError
      ? error.isRetryable
      : status !== undefined
        ? retryableStatuses.has(status)
        : (typeof code === 'string' && retryableClientCodes.has(code)) || isConnectionError(error);
  const message = error instanceof Error ? error.message : String(error);
  return new GeminiCallError({ operation, status, message, isRetryable, cause: error });
}

/**
 * Calls Cloud Storage through chargen's retry policy (callWithRetry), each failure read by toStorageCallError. An
 * aborted signal stops it before the next attempt, and a failure once aborted is the interruption, not a retry.
 */
export async function callStorageWithRetry<T>(options: { operation: string; call: () => Promise<T>; retry: StorageRetry; signal?: AbortSignal }): Promise<T> {
  return callWithRetry({
    operation: options.operation,
    policy: options.retry.policy,
    environment: options.retry.environment,
    call: async () => {
      if (options.signal?.aborted) throw new InterruptedError();
      try {
        return await options.call();
      } catch (caught) {
        if (options.signal?.aborted) throw new InterruptedError();
        throw toStorageCallError(options.operation, caught);
      }
    },
  });
}

/**
 * The objects under `prefix`, a listed page at a time (each page retried as one call), so a caller never holds more
 * than a page of them. With `delimiter: '/'` the objects of folders below roll up and are not listed.
 */
export async function* listObjectPages(options: { bucket: Bucket; prefix: string; delimiter?: string; pageSize?: number; retry: StorageRetry; signal?: AbortSignal }): AsyncGenerator<File[]> {
  let pageToken: string | undefined;
  do {
    const query = { prefix: options.prefix, autoPaginate: false, maxResults: options.pageSize ?? 1000, ...(options.delimiter ? { delimiter: options.delimiter } : {}), ...(pageToken ? { pageToken } : {}) };
    const [files, next] = await callStorageWithRetry({
      operation: `list ${toGcsUri(options.bucket.name, options.prefix)}`,
      retry: options.retry,
      ...(options.signal ? { signal: options.signal } : {}),
      call: () => options.bucket.getFiles(query),
    });
    yield files;
    pageToken = (next as { pageToken?: string } | null)?.pageToken;
  } while (pageToken);
}
