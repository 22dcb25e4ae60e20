import type { IncomingMessage, ServerResponse } from 'node:http';
import { internalError, invalidApiKey, missingApiKey, notFound } from './api-error.ts';
import { advanceJobs } from './batch-runner.ts';
import type { EmulatorContext, Route } from './emulator-context.ts';
import { HttpRejection, sendError } from './http-io.ts';
import { negotiateGzip } from './negotiate-gzip.ts';
import { advancePredictionJobs } from './vertex/run-prediction-job.ts';

function readApiKey(request: IncomingMessage, url: URL): string | undefined {
  const header = request.headers['x-goog-api-key'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  return fromHeader || url.searchParams.get('key') || undefined;
}

function isDisconnect(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNABORTED';
}

/**
 * Answers one request with the first route whose path and method match, after moving batch jobs along; a path that
 * matches with another method is a 405, no match at all the front end's 404.
 */
export async function dispatchRequest(options: {
  context: EmulatorContext;
  routes: Route[];
  request: IncomingMessage;
  response: ServerResponse;
}): Promise<void> {
  const { context, routes, request, response } = options;
  const url = new URL(request.url ?? '/', 'http://emulator.invalid');
  await advanceJobs(context);
  await advancePredictionJobs(context);
  let pathMatched = false;
  for (const route of routes) {
    const match = route.pattern.exec(url.pathname);
    if (!match) continue;
    pathMatched = true;
    if (route.method !== request.method) continue;
    await guardRoute({ context, route, request, response, url, model: match.groups?.['model'] });
    const version = match[1] === 'v1' || match[1] === 'v1beta' ? match[1] : 'v1beta';
    const origin = `http://${request.headers.host ?? '127.0.0.1'}`;
    await route.handle(context, { request, response, url, version, parameters: { ...match.groups }, origin });
    return;
  }
  throw new HttpRejection(
    pathMatched
      ? { httpStatus: 405, status: 'UNIMPLEMENTED', message: `Method ${request.method ?? ''} is not allowed on ${url.pathname}.` }
      : notFound(`The requested URL ${url.pathname} was not found on this server.`),
  );
}

/** What stands between a matched route and its handler: the answer's encoding, the API key, then injected delays and faults. */
async function guardRoute(options: {
  context: EmulatorContext;
  route: Route;
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  model: string | undefined;
}): Promise<void> {
  const { context, route, request, response, url } = options;
  // As a front end does, API answers (errors too) go out gzip-encoded to a client that accepts it; admin stays plain,
  // and so do upload answers: recorded from UploadServer with an explicit length, never encoded (maruel/genai
  // FileCRUD.yaml, 2026-05-29), while files.get/list/delete behind the same key came gzip-encoded.
  if (route.requiresKey && route.endpoint !== 'files.upload') negotiateGzip({ request, response, enabled: context.options.quirks.gzipResponses });
  if (route.requiresKey) {
    const key = readApiKey(request, url);
    if (!key) throw new HttpRejection(missingApiKey());
    if (context.options.apiKey !== undefined && key !== context.options.apiKey) throw new HttpRejection(invalidApiKey());
  }
  // An upload is one call however many chunks it takes: faults hit its start, not each chunk.
  const isUploadChunk = route.endpoint === 'files.upload' && url.searchParams.has('upload_id');
  if (route.endpoint && !isUploadChunk) {
    const delay = context.faults.delayFor(route.endpoint);
    if (delay > 0) await context.sleep(delay);
    const fault = context.faults.drawEndpointFault(route.endpoint, { model: options.model });
    if (fault) throw new HttpRejection(fault);
  }
}

/** Answers a request whose dispatch failed: the rejection it carries, or a 500; a started answer is cut off instead. */
export function answerFailure(options: { request: IncomingMessage; response: ServerResponse; error: unknown }): void {
  const { request, response, error } = options;
  const clientWentAway = request.destroyed || response.destroyed || isDisconnect(error);
  if (!(error instanceof HttpRejection) && !clientWentAway) {
    // A bug in the emulator must look like a server error to the client, never like a hang.
    process.emitWarning(`chargen emulator: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  }
  if (!request.complete) request.resume();
  if (response.headersSent) {
    response.destroy();
    return;
  }
  sendError(response, error instanceof HttpRejection ? error.status : internalError());
}
