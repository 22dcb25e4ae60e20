import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { EmulatorContext, Route } from '../emulator-context.ts';
import { receiveMultipart, readBoundary } from '../storage/multipart-body.ts';
import { toObjectResource, objectEtag } from '../storage/object-resource.ts';
import type { StoredObject } from '../storage/object-store.ts';
import { checkWrite, readPreconditions } from '../storage/preconditions.ts';
import { receiveChunk } from '../storage/receive-chunk.ts';
import { invalidRequest, requiredParameter, sendStorageJson, StorageError } from '../storage/storage-error.ts';
import { readHeader, storageRoute, type StorageRouteInput } from '../storage/storage-route.ts';

const uploadPattern = /^\/upload\/storage\/v1\/b\/(?<bucket>[^/]+)\/o$/;
const defaultContentType = 'application/octet-stream';

async function readMetadata(request: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of request as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8');
    if (text.length > 1024 * 1024) throw invalidRequest('The object metadata is too large.');
  }
  return parseMetadata(text);
}

function parseMetadata(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new StorageError(400, 'parseError', 'Parse Error');
}

/** The name from the query, else from the metadata; both given, they must agree (Google's storage-testbench does so). */
function chooseName(input: StorageRouteInput, metadata: Record<string, unknown>): string {
  const fromQuery = input.url.searchParams.get('name') ?? undefined;
  const fromMetadata = typeof metadata['name'] === 'string' ? metadata['name'] : undefined;
  if (fromQuery !== undefined && fromMetadata !== undefined && fromQuery !== fromMetadata) {
    throw invalidRequest(`Value '${fromMetadata}' in content does not agree with value '${fromQuery}'.`);
  }
  const name = fromQuery ?? fromMetadata;
  if (!name) throw requiredParameter('name');
  return name;
}

/** An upload's answer: the object resource, its etag repeated as a header (recorded of every 200 that answers an object). */
export function sendObject(input: StorageRouteInput, object: StoredObject): void {
  sendStorageJson(input.response, 200, toObjectResource(object, input.origin), { etag: objectEtag(object.generation, object.metageneration) });
}

/** Runs `receive` to fill `temporaryPath`; a body cut off or refused midway leaves no file behind. */
async function receiveInto<T>(temporaryPath: string, receive: () => Promise<T>): Promise<T> {
  try {
    return await receive();
  } catch (error) {
    await rm(temporaryPath, { force: true });
    throw error;
  }
}

async function uploadMedia(context: EmulatorContext, input: StorageRouteInput): Promise<void> {
  const name = input.url.searchParams.get('name');
  if (!name) throw requiredParameter('name');
  const preconditions = readPreconditions(input.url);
  const temporaryPath = context.storage.objects.temporaryPath('media');
  await receiveInto(temporaryPath, () => pipeline(input.request, createWriteStream(temporaryPath)));
  const contentType = readHeader(input, 'content-type') ?? defaultContentType;
  const object = await context.storage.objects.commit({ bucket: input.bucket, name, contentType, temporaryPath, check: checkWrite(preconditions) });
  context.stats.objectsWritten += 1;
  sendObject(input, object);
}

async function uploadMultipart(context: EmulatorContext, input: StorageRouteInput): Promise<void> {
  const boundary = readBoundary(readHeader(input, 'content-type'));
  if (!boundary) throw invalidRequest('Multipart uploads need Content-Type: multipart/related with a boundary.');
  const preconditions = readPreconditions(input.url);
  const temporaryPath = context.storage.objects.temporaryPath('multipart');
  const { parts, metadata, name } = await receiveInto(temporaryPath, async () => {
    const received = await receiveMultipart({ request: input.request, boundary, mediaPath: temporaryPath });
    const parsed = parseMetadata(received.metadataText);
    return { parts: received, metadata: parsed, name: chooseName(input, parsed) };
  });
  const contentType = typeof metadata['contentType'] === 'string' ? metadata['contentType'] : parts.mediaContentType ?? defaultContentType;
  const object = await context.storage.objects.commit({ bucket: input.bucket, name, contentType, temporaryPath, check: checkWrite(preconditions) });
  context.stats.objectsWritten += 1;
  sendObject(input, object);
}

/**
 * Starts a resumable session: 200, no body, the session URI in Location. Its preconditions are kept and checked when
 * the last byte arrives.
 */
async function startResumable(context: EmulatorContext, input: StorageRouteInput): Promise<void> {
  const metadata = await readMetadata(input.request);
  const name = chooseName(input, metadata);
  const declared = readHeader(input, 'x-upload-content-length');
  const declaredSize = declared === undefined ? undefined : Number(declared);
  if (declaredSize !== undefined && !Number.isSafeInteger(declaredSize)) throw invalidRequest('Invalid X-Upload-Content-Length.');
  const session = context.storage.uploads.start({
    bucket: input.bucket,
    name,
    contentType: typeof metadata['contentType'] === 'string' ? metadata['contentType'] : readHeader(input, 'x-upload-content-type') ?? defaultContentType,
    preconditions: readPreconditions(input.url),
    declaredSize,
  });
  const location = `${input.origin}/upload/storage/v1/b/${encodeURIComponent(input.bucket)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${session.id}`;
  input.response.writeHead(200, { location, 'content-length': '0', 'content-type': 'text/plain; charset=utf-8' });
  input.response.end();
}

function readUploadId(input: StorageRouteInput): string {
  const id = input.url.searchParams.get('upload_id');
  if (!id) throw requiredParameter('upload_id');
  return id;
}

/** objects.insert on the upload endpoint (media, multipart, resumable), and the resumable session's chunks and cancel. */
export const storageUploadRoutes: Route[] = [
  storageRoute({
    method: 'POST',
    pattern: uploadPattern,
    endpoint: 'storage.objects.insert',
    handle: async (context, input) => {
      const uploadType = input.url.searchParams.get('uploadType');
      if (uploadType === 'media') await uploadMedia(context, input);
      else if (uploadType === 'multipart') await uploadMultipart(context, input);
      else if (uploadType === 'resumable') await startResumable(context, input);
      else throw uploadType === null ? requiredParameter('uploadType') : invalidRequest(`Invalid upload type: ${uploadType}`);
    },
  }),
  storageRoute({
    method: 'PUT',
    pattern: uploadPattern,
    handle: async (context, input) => {
      const session = context.storage.uploads.find(readUploadId(input));
      if (!session) throw new StorageError(404, 'notFound', 'No such upload session.');
      const object = await receiveChunk(context, input, session);
      if (object) sendObject(input, object);
    },
  }),
  storageRoute({
    method: 'DELETE',
    pattern: uploadPattern,
    handle: async (context, input) => {
      input.request.resume();
      const session = context.storage.uploads.find(readUploadId(input));
      if (!session) throw new StorageError(404, 'notFound', 'No such upload session.');
      await context.storage.uploads.end(session);
      // A cancelled session answers 499 with no body (Google's "perform resumable uploads" page).
      input.response.writeHead(499, { 'content-length': '0' });
      input.response.end();
    },
  }),
];
