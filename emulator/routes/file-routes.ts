import { fileAccessDenied, invalidArgument, notFound, toErrorEnvelope, type RpcStatus } from '../api-error.ts';
import { versionPattern, type EmulatorContext, type Route, type RouteInput } from '../emulator-context.ts';
import { toFileResource, type UploadSession } from '../file-store.ts';
import { HttpRejection, isPlainObject, readJsonBody, sendJson } from '../http-io.ts';
import { downloadRoute } from './download-route.ts';
import { pageOf } from './paging.ts';

const fileIdPattern = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
function header(input: RouteInput, name: string): string | undefined {
  const value = input.request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function startUpload(context: EmulatorContext, input: RouteInput): Promise<void> {
  if (header(input, 'x-goog-upload-protocol') !== 'resumable' || header(input, 'x-goog-upload-command') !== 'start') {
    throw new HttpRejection(invalidArgument('Uploads to this endpoint use the resumable protocol: send X-Goog-Upload-Protocol: resumable and X-Goog-Upload-Command: start.'));
  }
  const body = await readJsonBody(input.request, { limitBytes: 1024 * 1024 });
  const file = isPlainObject(body) && isPlainObject(body['file']) ? body['file'] : {};
  const lengthHeader = header(input, 'x-goog-upload-header-content-length') ?? (typeof file['sizeBytes'] === 'string' ? file['sizeBytes'] : undefined);
  const declaredSize = lengthHeader === undefined ? Number.NaN : Number(lengthHeader);
  if (!Number.isSafeInteger(declaredSize) || declaredSize < 0) {
    throw new HttpRejection(invalidArgument('X-Goog-Upload-Header-Content-Length must give the size of the file in bytes.'));
  }
  if (declaredSize > context.options.limits.maxFileBytes) {
    throw new HttpRejection(invalidArgument(`File size ${declaredSize} bytes exceeds the maximum of ${context.options.limits.maxFileBytes} bytes.`));
  }
  const mimeType = header(input, 'x-goog-upload-header-content-type') ?? (typeof file['mimeType'] === 'string' ? file['mimeType'] : undefined);
  if (!mimeType) throw new HttpRejection(invalidArgument('The MIME type of the file is missing: send X-Goog-Upload-Header-Content-Type.'));
  let requestedId: string | undefined;
  if (typeof file['name'] === 'string') {
    requestedId = file['name'].startsWith('files/') ? file['name'].slice('files/'.length) : file['name'];
    if (!fileIdPattern.test(requestedId)) {
      throw new HttpRejection(invalidArgument('* File.name: File name may only contain lowercase alphanumeric characters or dashes (-) and cannot begin or end with a dash, and is at most 40 characters long.'));
    }
    if (context.files.findLive(requestedId)) {
      throw new HttpRejection({ httpStatus: 409, status: 'ALREADY_EXISTS', message: `File files/${requestedId} already exists.` });
    }
  }
  const session = context.files.startUpload({
    declaredSize,
    mimeType,
    ...(typeof file['displayName'] === 'string' ? { displayName: file['displayName'] } : {}),
    ...(requestedId !== undefined ? { requestedId } : {}),
  });
  const uploadUrl = `${input.origin}/upload/${input.version}/files?upload_id=${session.uploadId}&upload_protocol=resumable`;
  input.response.writeHead(200, {
    'x-goog-upload-url': uploadUrl,
    'x-goog-upload-control-url': uploadUrl,
    'x-goog-upload-status': 'active',
    'x-goog-upload-chunk-granularity': String(context.options.limits.uploadChunkGranularity),
    'content-type': 'text/plain; charset=utf-8',
    'content-length': '0',
  });
  input.response.end();
}

async function receiveChunk(context: EmulatorContext, input: RouteInput, uploadId: string): Promise<void> {
  const session = context.files.findUpload(uploadId);
  if (!session) {
    input.request.resume();
    throw new HttpRejection(notFound('The upload session was not found or has already been finalized.'));
  }
  const commands = (header(input, 'x-goog-upload-command') ?? '').split(',').map((command) => command.trim());
  const activeHeaders = { 'x-goog-upload-status': 'active', 'x-goog-upload-size-received': String(session.received) };
  if (commands.includes('query')) {
    input.request.resume();
    sendJson(input.response, 200, {}, activeHeaders);
    return;
  }
  const finalize = commands.includes('finalize');
  if (commands.includes('upload')) {
    const offset = Number(header(input, 'x-goog-upload-offset'));
    if (offset !== session.received) {
      input.request.resume();
      throw new HttpRejection(invalidArgument(`X-Goog-Upload-Offset ${String(header(input, 'x-goog-upload-offset'))} does not match the ${session.received} bytes received so far.`));
    }
    const added = await context.files.appendChunk(session, input.request);
    const granularity = context.options.limits.uploadChunkGranularity;
    const rejection: RpcStatus | undefined =
      !finalize && added % granularity !== 0
        ? invalidArgument(`A chunk that does not finalize the upload must be a multiple of ${granularity} bytes; got ${added}.`)
        : session.received > session.declaredSize
          ? invalidArgument(`Received ${session.received} bytes, more than the declared ${session.declaredSize}.`)
          : undefined;
    if (rejection) {
      await context.files.discardLastChunk(session, added);
      throw new HttpRejection(rejection);
    }
  } else if (!finalize) {
    input.request.resume();
    throw new HttpRejection(invalidArgument('X-Goog-Upload-Command must be upload, finalize, "upload, finalize" or query.'));
  } else {
    input.request.resume();
  }
  if (!finalize) {
    sendJson(input.response, 200, {}, { 'x-goog-upload-status': 'active', 'x-goog-upload-size-received': String(session.received) });
    return;
  }
  if (session.received !== session.declaredSize) {
    throw new HttpRejection(invalidArgument(`The upload was finalized after ${session.received} bytes, but ${session.declaredSize} were declared.`));
  }
  if (session.requestedId !== undefined && context.files.findLive(session.requestedId)) {
    throw new HttpRejection({ httpStatus: 409, status: 'ALREADY_EXISTS', message: `File files/${session.requestedId} already exists.` });
  }
  if (isRefusedMimeType(context, session.mimeType)) {
    await refuseMimeType(context, input, session);
    return;
  }
  const file = await context.files.finalizeUpload(session);
  context.stats.uploads += 1;
  context.stats.uploadedBytes += file.sizeBytes;
  context.stats.uploadedBytesHeld += file.sizeBytes;
  context.stats.peakUploadedBytesHeld = Math.max(context.stats.peakUploadedBytesHeld, context.stats.uploadedBytesHeld);
  sendJson(input.response, 200, { file: toFileResource(file, input) }, { 'x-goog-upload-status': 'final' });
}

function isRefusedMimeType(context: EmulatorContext, mimeType: string): boolean {
  return context.options.quirks.refusedUploadMimeTypes.some((refused) => refused.toLowerCase() === mimeType.toLowerCase());
}

/**
 * The answer recorded for a refused MIME type: at finalize (the start was accepted), 400 with a body without
 * `details`, and `x-goog-upload-status: final`, so the session is over and a retry needs a new upload
 * (python-genai#1547 quotes the body; fix commit 946a17e0's test answers exactly this).
 */
async function refuseMimeType(context: EmulatorContext, input: RouteInput, session: UploadSession): Promise<void> {
  await context.files.abandonUpload(session);
  context.stats.uploadsRefused += 1;
  const body = toErrorEnvelope(invalidArgument(`Unsupported MIME type: ${session.mimeType}`));
  sendJson(input.response, 400, body, { 'x-goog-upload-status': 'final' });
}

function checkFileId(context: EmulatorContext, id: string): void {
  if (context.options.quirks.rejectLongFileIds && id.length > 40) {
    throw new HttpRejection(invalidArgument(`* GetFileRequest.name: File ID (name excluding 'files/') cannot be more than 40 characters.\n`));
  }
}

export const fileRoutes: Route[] = [
  {
    method: 'POST',
    pattern: new RegExp(`^/upload/${versionPattern}/files$`),
    endpoint: 'files.upload',
    requiresKey: true,
    handle: async (context, input) => {
      const uploadId = input.url.searchParams.get('upload_id');
      if (uploadId) await receiveChunk(context, input, uploadId);
      else await startUpload(context, input);
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/${versionPattern}/files/(?<id>[^/:]+)$`),
    endpoint: 'files.get',
    requiresKey: true,
    handle: async (context, input) => {
      const id = input.parameters['id'] ?? '';
      checkFileId(context, id);
      const file = context.files.findLive(id);
      if (!file) throw new HttpRejection(fileAccessDenied(id));
      sendJson(input.response, 200, toFileResource(file, input));
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/${versionPattern}/files$`),
    endpoint: 'files.list',
    requiresKey: true,
    handle: async (context, input) => {
      const page = pageOf({
        items: context.files.listLive().reverse(),
        url: input.url,
        defaultPageSize: 10,
        maxPageSize: 100,
      });
      sendJson(input.response, 200, {
        ...(page.items.length > 0 ? { files: page.items.map((file) => toFileResource(file, input)) } : {}),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      });
    },
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^/${versionPattern}/files/(?<id>[^/:]+)$`),
    endpoint: 'files.delete',
    requiresKey: true,
    handle: async (context, input) => {
      input.request.resume();
      const id = input.parameters['id'] ?? '';
      checkFileId(context, id);
      const file = context.files.findLive(id);
      if (!file || !(await context.files.remove(id))) throw new HttpRejection(fileAccessDenied(id));
      context.stats.filesDeleted += 1;
      if (file.source === 'UPLOADED') context.stats.uploadedBytesHeld -= file.sizeBytes;
      sendJson(input.response, 200, {});
    },
  },
  downloadRoute,
];
