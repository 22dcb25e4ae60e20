import type { ServerResponse } from 'node:http';

/**
 * A Cloud Storage JSON API error. Its envelope differs from the Gemini API's: `{"error": {code, message, errors:
 * [{message, domain, reason}]}}`, no `status` (a real 412 of 2026-09-29 recorded in a public emulator's fixtures; the
 * 404 wording from a real `curl` quoted in firebase-tools PR #3647).
 */
export class StorageError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export function noSuchObject(bucket: string, name: string): StorageError {
  return new StorageError(404, 'notFound', `No such object: ${bucket}/${name}`);
}

/** The JSON API's 404 for a bucket that is not there (as gcloud-aio users quote it), for the bucket and its objects alike. */
export function noSuchBucket(): StorageError {
  return new StorageError(404, 'notFound', 'The specified bucket does not exist.');
}

export function conditionNotMet(): StorageError {
  return new StorageError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');
}

export function invalidRequest(message: string): StorageError {
  return new StorageError(400, 'invalid', message);
}

export function requiredParameter(name: string): StorageError {
  return new StorageError(400, 'required', `Required parameter: ${name}`);
}

/** The JSON API's own layout: two-space indentation and a final line feed (recorded of every JSON API body). */
export function sendStorageJson(response: ServerResponse, statusCode: number, body: unknown, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(`${JSON.stringify(body, null, 2)}\n`, 'utf8');
  response.writeHead(statusCode, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': String(bytes.length),
    'cache-control': 'no-cache, no-store, max-age=0, must-revalidate',
    ...headers,
  });
  response.end(bytes);
}

export function sendStorageError(response: ServerResponse, error: StorageError): void {
  sendStorageJson(response, error.httpStatus, {
    error: {
      code: error.httpStatus,
      message: error.message,
      errors: [{ message: error.message, domain: 'global', reason: error.reason }],
    },
  });
}

/**
 * An `alt=media` read fails in plain words, not JSON: `text/html; charset=UTF-8` and e.g. "No such object: b/o"
 * (the same real `curl`, firebase-tools PR #3647).
 */
export function sendMediaError(response: ServerResponse, error: StorageError, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(error.message, 'utf8');
  response.writeHead(error.httpStatus, {
    'content-type': 'text/html; charset=UTF-8',
    'content-length': String(bytes.length),
    'cache-control': 'private, max-age=0',
    ...headers,
  });
  response.end(bytes);
}
