import type { EmulatorContext, Route, RouteInput } from '../emulator-context.ts';
import { sendMediaError, sendStorageError, StorageError } from './storage-error.ts';

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
export function storageRoute(options: {
  method: string;
  pattern: RegExp;
  handle: (context: EmulatorContext, input: StorageRouteInput) => Promise<void>;
}): Route {
  return {
    method: options.method,
    pattern: options.pattern,
    requiresKey: false,
    handle: async (context, input) => {
      const isMedia = input.url.searchParams.get('alt') === 'media';
      try {
        const objectName = decodeName(input.parameters['object']);
        await options.handle(context, { ...input, bucket: decodeName(input.parameters['bucket']), objectName });
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
