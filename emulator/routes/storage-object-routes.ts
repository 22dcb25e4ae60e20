import { pipeline } from 'node:stream/promises';
import { formatCrc32c } from '../../lib/crc32c.ts';
import type { EmulatorContext, Route } from '../emulator-context.ts';
import { listObjectPage, readMaxResults } from '../storage/list-objects.ts';
import { objectEtag, toObjectResource } from '../storage/object-resource.ts';
import type { StoredObject } from '../storage/object-store.ts';
import { preconditionsHold, readPreconditions } from '../storage/preconditions.ts';
import { conditionNotMet, noSuchObject, sendMediaError, sendStorageJson, StorageError } from '../storage/storage-error.ts';
import { storageRoute, type StorageRouteInput } from '../storage/storage-route.ts';
import { parseRangeHeader, sendCut } from './download-route.ts';
import { sendObject } from './storage-upload-routes.ts';

/** The live object the request names, its `generation` (if given) and its preconditions holding. */
function findObject(context: EmulatorContext, input: StorageRouteInput): StoredObject {
  const object = context.storage.objects.find(input.bucket, input.objectName);
  const generation = input.url.searchParams.get('generation');
  // No versioning here: an older generation is as gone as a deleted object.
  if (!object || (generation !== null && generation !== String(object.generation))) throw noSuchObject(input.bucket, input.objectName);
  if (!preconditionsHold(readPreconditions(input.url), object)) throw conditionNotMet();
  return object;
}

/**
 * Headers of a media answer as recorded of the JSON API: the whole object's hashes in `X-Goog-Hash` (crc32c and md5;
 * on a Range answer too), its generations, storage class and stored encoding and length. The client checks the
 * crc32c of a whole download only when `x-goog-stored-content-encoding` says identity.
 */
function mediaHeaders(object: StoredObject): Record<string, string> {
  return {
    'content-type': object.contentType,
    'content-disposition': 'attachment',
    etag: objectEtag(object.generation, object.metageneration),
    'last-modified': new Date(object.createdMilliseconds).toUTCString(),
    'cache-control': 'no-cache, no-store, max-age=0, must-revalidate',
    'x-goog-generation': String(object.generation),
    'x-goog-metageneration': String(object.metageneration),
    'x-goog-hash': `crc32c=${formatCrc32c(object.crc32c)},md5=${object.md5Base64}`,
    'x-goog-storage-class': 'STANDARD',
    'x-goog-stored-content-encoding': 'identity',
    'x-goog-stored-content-length': String(object.size),
    'accept-ranges': 'bytes',
  };
}

/** An `alt=media` read: the bytes streamed from disk, whole (200) or the part a Range asks for (206), 416 past the end. */
async function sendMedia(context: EmulatorContext, input: StorageRouteInput, object: StoredObject): Promise<void> {
  context.stats.objectDownloads += 1;
  const range = parseRangeHeader(input.request.headers.range, object.size);
  if (range === 'unsatisfiable') {
    // The wording is a guess: no 416 of this endpoint was found recorded.
    sendMediaError(input.response, new StorageError(416, 'requestedRangeNotSatisfiable', 'The requested range cannot be satisfied.'), {
      'content-range': `bytes */${object.size}`,
    });
    return;
  }
  // A `cutDownloads` fault cuts a media read as it cuts a Files API download: half the bytes, then the connection.
  const cut = context.faults.takeDownloadCut();
  const bytes = range === undefined ? object.size : range.end - range.start + 1;
  if (range === undefined) input.response.writeHead(200, { ...mediaHeaders(object), 'content-length': String(bytes) });
  else input.response.writeHead(206, { ...mediaHeaders(object), 'content-length': String(bytes), 'content-range': `bytes ${range.start}-${range.end}/${object.size}` });
  const source = context.storage.objects.openRead(object, range);
  if (cut) await sendCut({ source, bytes, input });
  else await pipeline(source, input.response);
}

const objectPattern = /^\/storage\/v1\/b\/(?<bucket>[^/]+)\/o\/(?<object>.+)$/;

/** objects.list, objects.get (metadata, or bytes with `alt=media`, also under /download) and objects.delete. */
export const storageObjectRoutes: Route[] = [
  storageRoute({
    method: 'GET',
    pattern: /^\/storage\/v1\/b\/(?<bucket>[^/]+)\/o$/,
    endpoint: 'storage.objects.list',
    handle: async (context, input) => {
      const prefix = input.url.searchParams.get('prefix') ?? '';
      const page = listObjectPage({
        objects: context.storage.objects.list(input.bucket, prefix),
        prefix,
        delimiter: input.url.searchParams.get('delimiter') ?? '',
        maxResults: readMaxResults(input.url.searchParams.get('maxResults')),
        pageToken: input.url.searchParams.get('pageToken') ?? undefined,
      });
      // Recorded: members absent when empty; an empty listing is `{"kind": "storage#objects"}` alone.
      sendStorageJson(input.response, 200, {
        kind: 'storage#objects',
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
        ...(page.prefixes.length > 0 ? { prefixes: page.prefixes } : {}),
        ...(page.items.length > 0 ? { items: page.items.map((object) => toObjectResource(object, input.origin)) } : {}),
      }, { 'cache-control': 'private, max-age=0, must-revalidate, no-transform' });
    },
  }),
  storageRoute({
    method: 'GET',
    pattern: /^(?:\/download)?\/storage\/v1\/b\/(?<bucket>[^/]+)\/o\/(?<object>.+)$/,
    endpoint: 'storage.objects.get',
    handle: async (context, input) => {
      const object = findObject(context, input);
      if (input.url.searchParams.get('alt') === 'media') await sendMedia(context, input, object);
      else sendObject(input, object);
    },
  }),
  storageRoute({
    method: 'DELETE',
    pattern: objectPattern,
    endpoint: 'storage.objects.delete',
    handle: async (context, input) => {
      input.request.resume();
      const object = findObject(context, input);
      await context.storage.objects.remove(object);
      // Recorded: 204 and no body.
      input.response.writeHead(204, { 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate' });
      input.response.end();
    },
  }),
];
