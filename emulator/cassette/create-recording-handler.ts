import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createBodyCollector, storeBody, type BodyCollector } from './body-collector.ts';
import { createCassetteRecorder } from './cassette-recorder.ts';
import { baseUrlPlaceholder, bodiesDirectoryName, redactedText, type Interaction } from './cassette-schema.ts';
import { hashRequestBody } from './hash-request-body.ts';
import { readRequestBody } from './read-request-body.ts';
import { createStreamRedactor, redactBytes, redactText } from '../../lib/redact-secret.ts';
import { normalizeRequestTarget, redactKeyParameter, removeKeyParameter, rewriteHandedOutUrl } from './request-target.ts';
import { findRequestOrigin } from './find-request-origin.ts';
import { sendProxyError } from './send-proxy-error.ts';

export interface RecordingHandlerOptions {
  /** Where requests go: `https://generativelanguage.googleapis.com`, or an emulator's base URL. */
  upstreamBaseUrl: string;
  /** Sent to the upstream as `x-goog-api-key` on every request, whatever key the client sent; never recorded. */
  apiKey: string;
  cassetteDirectory: string;
  fetch: typeof globalThis.fetch;
}

export interface RecordingHandler {
  (request: IncomingMessage, response: ServerResponse): void;
  /** Waits for interactions still under way and writes `cassette.json`; throws if writing it failed. */
  saveCassette(): Promise<void>;
}

// Connection-level headers, the client's credentials (the proxy sends its own key) and what fetch sets itself.
// Accept-Encoding goes too: fetch decompresses, and the recorded bodies should be the plain ones.
const requestHeadersNotForwarded = new Set([
  'host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect',
  'content-length', 'accept-encoding', 'x-goog-api-key', 'authorization',
]);
const credentialHeaders = ['x-goog-api-key', 'authorization'];
// Content-Encoding is dropped because fetch has already decoded the body it hands on.
const responseHeadersNotRelayed = new Set([
  'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length', 'content-encoding', 'set-cookie',
]);
// URLs the upstream hands out for the client's next request: uploads, and the download's 302 (the real API redirects
// `/v1beta/files/{id}:download` to `/download/v1beta/…`). Both are moved onto the proxy, so that request is relayed
// and recorded too, and replays against the replay server's own origin.
const handedOutUrlHeaders = new Set(['x-goog-upload-url', 'x-goog-upload-control-url', 'location']);

function isRecordedRequestHeader(name: string): boolean {
  return name === 'content-type' || name.startsWith('x-goog-upload-');
}

function isRecordedResponseHeader(name: string): boolean {
  return name === 'content-type' || name === 'retry-after' || name === 'content-disposition' || name.startsWith('x-goog-upload-');
}

function isJsonContentType(contentType: string | null): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === 'application/json';
}

function joinHeaderValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}

function wrapAsBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** One recording proxy's state, shared by every request it relays. */
interface RecordingProxy {
  options: RecordingHandlerOptions;
  /** The upstream base URL without its trailing slashes. */
  upstreamBaseUrl: string;
  bodiesDirectory: string;
  redact: (text: string) => string;
  /**
   * Upload chunks and redirected requests come back to the proxy at the rewritten URL and must go on to the URL the
   * upstream handed out, which need not be on the base URL's host: rewritten target → handed-out URL.
   */
  handedOutTargets: Map<string, string>;
}

/**
 * A node:http handler that relays every request to the upstream and records each interaction in a cassette, with
 * credentials redacted and upload URLs moved onto the proxy.
 */
export function createRecordingHandler(options: RecordingHandlerOptions): RecordingHandler {
  const upstreamBaseUrl = options.upstreamBaseUrl.replace(/\/+$/, '');
  const redact = (text: string) => redactText(text, options.apiKey);
  const proxy: RecordingProxy = {
    options,
    upstreamBaseUrl,
    bodiesDirectory: join(options.cassetteDirectory, bodiesDirectoryName),
    redact,
    handedOutTargets: new Map(),
  };
  const recorder = createCassetteRecorder({ cassetteDirectory: options.cassetteDirectory, recordedAgainst: redact(upstreamBaseUrl) });
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    recorder.record(relay(proxy, request, response));
  };
  return Object.assign(handle, { saveCassette: () => recorder.save() });
}

/** Relays one request and its answer as they go, and returns the interaction to record (none if relaying failed). */
async function relay(proxy: RecordingProxy, request: IncomingMessage, response: ServerResponse): Promise<Interaction | undefined> {
  const { options, redact } = proxy;
  const method = request.method ?? 'GET';
  const rawUrl = request.url ?? '/';
  let responseCollector: BodyCollector | undefined;
  try {
    const requestBytes = await readRequestBody(request);
    const { upstream, upstreamUrl } = await forwardRequest(proxy, { request, response, method, rawUrl, requestBytes });
    const headers = translateResponseHeaders(proxy, { upstream, upstreamUrl, clientOrigin: findRequestOrigin(request) });
    response.writeHead(upstream.status, headers.relayed);

    const collector = createBodyCollector({ bodiesDirectory: proxy.bodiesDirectory, allowJson: isJsonContentType(upstream.headers.get('content-type')) });
    responseCollector = collector;
    await relayResponseBody({ upstream, response, collector, apiKey: options.apiKey });
    const responseBody = await collector.finish();

    const redactedRequestBytes = redactBytes(requestBytes, options.apiKey);
    return {
      request: {
        method,
        url: redact(redactKeyParameter(rawUrl)),
        headers: pickRecordedRequestHeaders(request, redact),
        bodyHash: hashRequestBody(redactedRequestBytes),
        body: await storeBody({ bodiesDirectory: proxy.bodiesDirectory, allowJson: true, bytes: redactedRequestBytes }),
      },
      response: { status: upstream.status, headers: headers.recorded, body: responseBody },
    };
  } catch (error) {
    await responseCollector?.discard();
    if (response.headersSent) response.destroy();
    else if (!response.destroyed) {
      sendProxyError(response, {
        httpStatus: 502,
        status: 'UNAVAILABLE',
        message: redact(`The recording proxy could not relay ${method} ${redactKeyParameter(rawUrl)} to ${proxy.upstreamBaseUrl}: ${describeError(error)}`),
      });
    }
    return undefined;
  }
}

/** Sends the request on to the upstream (or to the URL it handed out), with the proxy's key; aborted if the client goes. */
async function forwardRequest(
  proxy: RecordingProxy,
  forwarded: { request: IncomingMessage; response: ServerResponse; method: string; rawUrl: string; requestBytes: Buffer },
): Promise<{ upstream: Response; upstreamUrl: string }> {
  const { request, response, method, rawUrl, requestBytes } = forwarded;
  const upstreamUrl = proxy.handedOutTargets.get(normalizeRequestTarget(rawUrl)) ?? `${proxy.upstreamBaseUrl}${removeKeyParameter(rawUrl)}`;
  const abort = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) abort.abort(new Error('the client went away'));
  });
  const upstream = await proxy.options.fetch(upstreamUrl, {
    method,
    headers: buildForwardedHeaders(request, proxy.options.apiKey),
    ...(requestBytes.length > 0 && method !== 'GET' && method !== 'HEAD' ? { body: requestBytes } : {}),
    redirect: 'manual',
    signal: abort.signal,
  });
  return { upstream, upstreamUrl };
}

function buildForwardedHeaders(request: IncomingMessage, apiKey: string): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    const text = joinHeaderValue(value);
    if (text !== undefined && !requestHeadersNotForwarded.has(name)) headers.set(name, text);
  }
  headers.set('x-goog-api-key', apiKey);
  return headers;
}

function pickRecordedRequestHeaders(request: IncomingMessage, redact: (text: string) => string): Record<string, string> {
  const recorded: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    const text = joinHeaderValue(value);
    if (text === undefined) continue;
    if (credentialHeaders.includes(name)) recorded[name] = redactedText;
    else if (isRecordedRequestHeader(name)) recorded[name] = redact(text);
  }
  return recorded;
}

/**
 * The upstream's answer headers as relayed to the client and as recorded, with handed-out URLs moved onto the proxy
 * (the client's origin, or the cassette's placeholder) and remembered for the request that comes back on them.
 */
function translateResponseHeaders(
  proxy: RecordingProxy,
  answer: { upstream: Response; upstreamUrl: string; clientOrigin: string },
): { relayed: Record<string, string | string[]>; recorded: Record<string, string> } {
  const { upstream, upstreamUrl, clientOrigin } = answer;
  const relayed: Record<string, string | string[]> = {};
  const recorded: Record<string, string> = {};
  upstream.headers.forEach((value, name) => {
    if (handedOutUrlHeaders.has(name)) {
      // A Location may be relative to the URL asked.
      const handedOut = new URL(value, upstreamUrl).toString();
      proxy.handedOutTargets.set(normalizeRequestTarget(rewriteHandedOutUrl({ url: handedOut, origin: '' })), handedOut);
      relayed[name] = rewriteHandedOutUrl({ url: handedOut, origin: clientOrigin });
      recorded[name] = proxy.redact(rewriteHandedOutUrl({ url: handedOut, origin: baseUrlPlaceholder }));
      return;
    }
    if (!responseHeadersNotRelayed.has(name)) relayed[name] = value;
    if (isRecordedResponseHeader(name)) recorded[name] = proxy.redact(value);
  });
  const setCookies = upstream.headers.getSetCookie();
  if (setCookies.length > 0) relayed['set-cookie'] = setCookies;
  const contentLength = upstream.headers.get('content-length');
  if (contentLength !== null && !upstream.headers.has('content-encoding')) relayed['content-length'] = contentLength;
  return { relayed, recorded };
}

/** The client gets the bytes as they arrive; the cassette gets a redacted copy, spilled to disk when large. */
async function relayResponseBody(options: { upstream: Response; response: ServerResponse; collector: BodyCollector; apiKey: string }): Promise<void> {
  const { upstream, response, collector } = options;
  if (upstream.body === null) {
    response.end();
    return;
  }
  const redactor = createStreamRedactor(options.apiKey);
  const tee = new Transform({
    transform(chunk: Uint8Array, _encoding, callback) {
      collector.write(redactor.push(wrapAsBuffer(chunk))).then(() => callback(null, chunk), callback);
    },
    flush(callback) {
      collector.write(redactor.end()).then(() => callback(), callback);
    },
  });
  await pipeline(Readable.fromWeb(upstream.body as WebReadableStream<Uint8Array>), tee, response);
}
