import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { acceptsGzip } from '../../emulator/negotiate-gzip.ts';
import { findRequestOrigin } from '../../emulator/cassette/find-request-origin.ts';
import { readRequestBody } from '../../emulator/cassette/read-request-body.ts';
import { normalizeRequestTarget, rewriteHandedOutUrl } from '../../emulator/cassette/request-target.ts';
import { sendProxyError } from '../../emulator/cassette/send-proxy-error.ts';
import { serveHandler } from '../../lib/serve-handler.ts';
import type { RecordedExchange } from './recorded-fixtures.ts';

/** One answer a route gives: a recorded exchange's response, its body replaced when the recording did not keep it. */
export interface ReplayAnswer {
  status: number;
  headers: Record<string, string>;
  gzip: boolean;
  body: Buffer;
}

export interface ReplayRoute {
  method: string;
  /** Path and query; matched as the cassette replay matches (query sorted, any key left out). */
  target: string;
  /** Given in order; the last one is repeated (a client may poll more often than the recording did). */
  answers: ReplayAnswer[];
}

export interface SeenRequest {
  method: string;
  target: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface RecordedReplay {
  baseUrl: string;
  /** Every request, in order. */
  requests(): SeenRequest[];
  /** Requests no route answered (each got a 501 naming it): a test fails on any. */
  misses(): string[];
  close(): Promise<void>;
}

/** Headers whose URL the client follows next: moved onto the replay server, path and query kept. */
const handedOutUrlHeaders = ['location', 'x-goog-upload-url', 'x-goog-upload-control-url'];

/** A JSON body as Google's front end writes it: two-space indentation and a final newline (go-vcr keeps it so). */
function encodeBody(body: RecordedExchange['response']['body'], replacement: Buffer | undefined): Buffer {
  if (replacement !== undefined) return replacement;
  if ('json' in body) return Buffer.from(`${JSON.stringify(body.json, null, 2)}\n`, 'utf8');
  if ('text' in body) return Buffer.from(body.text, 'utf8');
  if ('empty' in body) return Buffer.alloc(0);
  throw new Error(`the recording did not keep this body (${body.omitted}); give the replay one`);
}

/** A recorded exchange as a route answer; `body` stands in for bytes the recording did not keep (or replaces any). */
export function answerFrom(exchange: RecordedExchange, override: { body?: Buffer; headers?: Record<string, string> } = {}): ReplayAnswer {
  return {
    status: exchange.response.status,
    headers: { ...exchange.response.headers, ...override.headers },
    gzip: exchange.response.gzip,
    body: encodeBody(exchange.response.body, override.body),
  };
}

/** A route answering the exchange's recorded request (method and target) with its recorded answer. */
export function routeFrom(exchange: RecordedExchange, override: { method?: string; target?: string; body?: Buffer; headers?: Record<string, string> } = {}): ReplayRoute {
  return { method: override.method ?? exchange.request.method, target: override.target ?? exchange.request.target, answers: [answerFrom(exchange, override)] };
}

function writeAnswer(options: { request: IncomingMessage; response: ServerResponse; answer: ReplayAnswer }): void {
  const { request, response, answer } = options;
  const origin = findRequestOrigin(request);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    headers[name] = handedOutUrlHeaders.includes(name) && /^https?:\/\//.test(value) ? rewriteHandedOutUrl({ url: value, origin }) : value;
  }
  // The recordings show JSON answers gzip-encoded and chunked (no length) to a client that accepts gzip, and upload
  // and download answers from UploadServer plain with an explicit length.
  if (answer.gzip && acceptsGzip(request.headers['accept-encoding'])) {
    delete headers['content-length'];
    response.writeHead(answer.status, { ...headers, 'content-encoding': 'gzip', 'transfer-encoding': 'chunked' });
    response.end(gzipSync(answer.body));
    return;
  }
  response.writeHead(answer.status, { ...headers, 'content-length': String(answer.body.length) });
  response.end(answer.body);
}

/**
 * A replay server for recorded shapes, on 127.0.0.1 and a free port. The cassette replay server
 * (pipeline/cassette) matches a request on its body's hash, which fits a cassette chargen recorded itself but not
 * an answer recorded from someone else's request; this one matches on method and target only (with the cassette's
 * own normalisation) and answers a route's answers in order, repeating the last. URLs handed out in headers
 * (upload URL, redirect Location) are moved onto this server, as the recording proxy moves them.
 */
export async function serveRecordedReplay(options: { routes: ReplayRoute[] }): Promise<RecordedReplay> {
  const routes = options.routes.map((route) => ({ ...route, key: `${route.method} ${normalizeRequestTarget(route.target)}`, used: 0 }));
  const seen: SeenRequest[] = [];
  const misses: string[] = [];
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      const method = request.method ?? 'GET';
      const target = request.url ?? '/';
      const body = await readRequestBody(request);
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')]));
      seen.push({ method, target, headers, body });
      const route = routes.find((candidate) => candidate.key === `${method} ${normalizeRequestTarget(target)}`);
      const answer = route?.answers[Math.min(route.used, route.answers.length - 1)];
      if (!route || !answer) {
        const message = `no recorded answer for ${method} ${target}`;
        misses.push(message);
        sendProxyError(response, { httpStatus: 501, status: 'UNIMPLEMENTED', message });
        return;
      }
      route.used += 1;
      writeAnswer({ request, response, answer });
    })().catch((error: unknown) => {
      if (!response.headersSent) sendProxyError(response, { httpStatus: 500, status: 'INTERNAL', message: String(error) });
      else response.destroy();
    });
  };
  const served = await serveHandler({ handler, port: 0 });
  return { baseUrl: served.baseUrl, requests: () => [...seen], misses: () => [...misses], close: () => served.close() };
}
