import { ApiUnreachableError, GeminiCallError } from '../errors.ts';
import { isConnectionError } from './call-with-retry.ts';
import type { GeminiConnection } from './create-gemini-client.ts';
import type { UploadOutcome } from './upload-files.ts';

const defaultHost = 'generativelanguage.googleapis.com';

/** Pure: the host a connection talks to, as people name it (`the Gemini API at …`). */
export function describeApiHost(connection: GeminiConnection | undefined): string {
  const host = connection?.baseUrl && URL.canParse(connection.baseUrl) ? new URL(connection.baseUrl).host : defaultHost;
  return host === defaultHost ? `the Gemini API (${host})` : `the Gemini API at ${host}`;
}

/** The innermost reason a connection failed (`connect ECONNREFUSED 127.0.0.1:9`), not the SDK's `fetch failed`. */
function findRootReason(error: unknown): string {
  let current: unknown = error;
  let reason = error instanceof Error ? error.message : String(error);
  for (let depth = 0; depth < 6 && current instanceof Error; depth += 1) {
    if (current.message && !(current instanceof GeminiCallError)) reason = current.message;
    current = current.cause;
  }
  return reason;
}

/** A connection failure as one ApiUnreachableError naming the host; anything else, as it was. */
export function toApiUnreachableError(error: unknown, options: { connection: GeminiConnection | undefined; rerun?: string }): unknown {
  if (error instanceof ApiUnreachableError || !(error instanceof GeminiCallError) || error.status !== undefined || !isConnectionError(error)) return error;
  const endpoint = options.connection?.baseUrl ? ' and CHARGEN_BASE_URL' : '';
  return new ApiUnreachableError({
    host: describeApiHost(options.connection),
    detail: findRootReason(error),
    advice: options.rerun
      ? `Check the network${endpoint}, then run \`${options.rerun}\` again; nothing more was sent, and what was received is kept.`
      : `Check the network${endpoint}, then try again.`,
    cause: error,
  });
}

/**
 * When every upload that was tried failed without reaching the API, the network is gone: throws the first failure
 * (one line for the run) rather than letting each image fail on its own.
 */
export function throwIfNoUploadReachedTheApi(outcomes: ReadonlyMap<string, UploadOutcome>): void {
  const tried = [...outcomes.values()].filter((outcome) => outcome.status === 'failed' || !outcome.reused);
  const [first] = tried;
  if (first?.status !== 'failed') return;
  if (tried.every((outcome) => outcome.status === 'failed' && outcome.error.status === undefined && isConnectionError(outcome.error))) throw first.error;
}
