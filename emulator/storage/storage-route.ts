import type { EmulatorContext, Route, RouteInput } from '../emulator-context.ts';
import type { EndpointName } from '../fault-config.ts';
import { noSuchBucket, sendMediaError, sendStorageError, StorageError } from './storage-error.ts';

export interface StorageRouteInput extends RouteInput {
  bucket: string;
  /** The object's name, percent-decoded from the path (the client encodes `/` as %2F). */
  objectName: string;
}

function decodeName(encoded: string | undefined): string {
  try {
    return decodeURIComponent(encoded ?? '');
  } catch {
    throw new StorageError(400, 'invalid', 'The object name is not valid percent-encoding.');
  }
}

/**
 * A Cloud Storage route: keyless (the real client sends no credentials to a custom endpoint, and no header is ever
 * read for auth or logged), its errors in the JSON API's envelope, or as plain words for an `alt=media` read.
 */
/**
 * An injected fault in the JSON API's envelope. The reasons are the documented ones (rateLimitExceeded,
 * backendError); the messages are not recorded.
 */
async function drawFault(context: EmulatorContext, endpoint: EndpointName | undefined): Promise<void> {
  if (!endpoint) return;
  const delay = context.faults.delayFor(endpoint);
  if (delay > 0) await context.sleep(delay);
  const fault = context.faults.drawEndpointFault(endpoint);
  if (fault?.httpStatus === 429) throw new StorageError(429, 'rateLimitExceeded', 'The rate of requests to this bucket exceeds the rate limit. Please try again later.');
  if (fault) throw new StorageError(503, 'backendError', 'We encountered an internal error. Please try again.');
}

export function storageRoute(options: {
  method: string;
  pattern: RegExp;
  /** For injected faults and delays; a resumable session's chunks have none, as an upload's chunks on the Files API. */
  endpoint?: EndpointName;
  handle: (context: EmulatorContext, input: StorageRouteInput) => Promise<void>;
}): Route {
  return {
    method: options.method,
    pattern: options.pattern,
    requiresKey: false,
    handle: async (context, input) => {
      const isMedia = input.url.searchParams.get('alt') === 'media';
      try {
        await drawFault(context, options.endpoint);
        const objectName = decodeName(input.parameters['object']);
        const bucket = decodeName(input.parameters['bucket']);
        // A resumable session's chunks name no bucket: the session was opened on one that exists.
        if (bucket !== '' && context.options.buckets && !context.options.buckets.includes(bucket)) throw noSuchBucket();
        await options.handle(context, { ...input, bucket, objectName });
      } catch (error) {
        if (!(error instanceof StorageError) || input.response.headersSent) throw error;
        if (!input.request.complete) input.request.resume();
        if (isMedia) sendMediaError(input.response, error);
        else sendStorageError(input.response, error);
      }
    },
  };
}

/** The request's header, the first if repeated. */
export function readHeader(input: RouteInput, name: string): string | undefined {
  const value = input.request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
