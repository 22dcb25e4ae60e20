import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { z } from 'zod';
import { redactText } from '../../lib/redact-secret.ts';
import { ChargenError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { stageNames } from '../../stages/stage-step.ts';
import type { UiActions } from './create-ui-actions.ts';
import type { UiState } from './create-ui-state.ts';
import { imageTypeByExtension } from '../../lib/media/describe-source-preview.ts';
import { galleryStatuses } from './list-gallery-items.ts';
import { resolveConfinedPath } from './resolve-confined-path.ts';

const assetsDirectory = join(import.meta.dirname, 'assets');
const assets = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
} as const;

const securityHeaders = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);
const maxBodyBytes = 16 * 1024;

const runBodySchema = z.object({ from: z.enum(stageNames).optional() }).strict();
const cancelBodySchema = z.object({ name: z.string().regex(/^batches\/[a-zA-Z0-9_-]+$/, 'a batch job name such as batches/abc123') }).strict();
const galleryQuerySchema = z.object({
  status: z.enum(galleryStatuses).optional(),
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(200).default(60),
});

export interface UiHandlerOptions {
  state: UiState;
  actions: UiActions;
  inputDirectory: string;
  outputDirectory: string;
  logger: Logger;
  /** How often open pages are sent the queue when it changed. */
  refreshMilliseconds: number;
  /** Text that must never reach a page (the API key), replaced wherever it would appear. */
  secrets: readonly string[];
}

export interface UiHandler {
  handle(request: IncomingMessage, response: ServerResponse): void;
  close(): Promise<void>;
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** `host:port` of an Origin header (lowercased by URL), or undefined for `null` or anything unparsable. */
function readOriginHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/** The host a request was addressed to, without its port. */
function readHostName(header: string | undefined): string | undefined {
  const match = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(header ?? '');
  return match?.[1]?.toLowerCase();
}

/**
 * The UI server as a plain request handler (served on port 0 in tests). It answers only requests addressed to a
 * loopback name (so a web page elsewhere cannot reach it by DNS rebinding) and takes actions only from its own page.
 */
export function createUiHandler(options: UiHandlerOptions): UiHandler {
  const { state, actions, logger } = options;
  const clients = new Set<{ response: ServerResponse; last: string }>();
  let ticking = false;
  let ticks = 0;

  const redact = (text: string) => options.secrets.filter((secret) => secret.length >= 6).reduce(redactText, text);

  function toProblem(error: unknown): HttpProblem {
    if (error instanceof HttpProblem) return error;
    if (error instanceof ChargenError) {
      const statuses: Record<string, number> = { 'workspace-locked': 409, 'workspace-missing': 404, 'gemini-call-failed': 502, 'api-unreachable': 502, usage: 400 };
      const status = statuses[error.code] ?? 422;
      return new HttpProblem(status, error.code, redact(error.message));
    }
    logger.error(redact((error as Error).stack ?? String(error)));
    return new HttpProblem(500, 'internal', 'Unexpected error in the UI server; its terminal has the details.');
  }

  function sendJson(response: ServerResponse, status: number, value: unknown): void {
    const body = redact(JSON.stringify(value));
    response.writeHead(status, { ...securityHeaders, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    response.end(body);
  }

  function sendProblem(response: ServerResponse, error: unknown): void {
    const problem = toProblem(error);
    if (response.headersSent) return void response.destroy();
    sendJson(response, problem.status, { error: { code: problem.code, message: problem.message } });
  }

  async function readJsonBody(request: IncomingMessage): Promise<unknown> {
    if (!/^application\/json\b/.test(request.headers['content-type'] ?? '')) throw new HttpProblem(415, 'usage', 'Send the action as application/json.');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBodyBytes) throw new HttpProblem(413, 'usage', 'The request body is too large.');
      chunks.push(chunk);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      throw new HttpProblem(400, 'usage', 'The request body is not JSON.');
    }
  }

  function parseWith<T>(schema: z.ZodType<T>, value: unknown): T {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw new HttpProblem(400, 'usage', parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '));
    }
    return parsed.data;
  }

  /** Actions change things (and can spend money): only from this server's own page. */
  function checkActionOrigin(request: IncomingMessage): void {
    const origin = request.headers.origin;
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') throw new HttpProblem(403, 'forbidden', 'Actions are taken only from the chargen UI page itself.');
    if (origin !== undefined && readOriginHost(origin) !== request.headers.host?.toLowerCase()) {
      throw new HttpProblem(403, 'forbidden', 'Actions are taken only from the chargen UI page itself.');
    }
  }

  async function sendImage(request: IncomingMessage, response: ServerResponse, folder: string, path: string): Promise<void> {
    const resolved = await resolveConfinedPath({ folder, path });
    const type = imageTypeByExtension[extname(path).toLowerCase()];
    if (!resolved || !type) throw new HttpProblem(404, 'not-found', 'No such image in the input or output folder.');
    const info = await stat(resolved);
    if (!info.isFile()) throw new HttpProblem(404, 'not-found', 'No such image in the input or output folder.');
    const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    if (request.headers['if-none-match'] === etag) {
      response.writeHead(304, { etag });
      return void response.end();
    }
    response.writeHead(200, { ...securityHeaders, 'content-type': type, 'content-length': String(info.size), 'cache-control': 'no-cache', etag });
    if (request.method === 'HEAD') return void response.end();
    const stream = createReadStream(resolved);
    stream.on('error', () => response.destroy());
    stream.pipe(response);
  }

  async function tick(): Promise<void> {
    if (ticking || clients.size === 0) return;
    ticking = true;
    ticks += 1;
    try {
      let payload: string;
      try {
        payload = `event: queue\ndata: ${redact(JSON.stringify(await state.readQueue()))}\n\n`;
      } catch (error) {
        const problem = toProblem(error);
        payload = `event: problem\ndata: ${JSON.stringify({ error: { code: problem.code, message: problem.message } })}\n\n`;
      }
      for (const client of clients) {
        if (client.last !== payload) {
          client.last = payload;
          client.response.write(payload);
        } else if (ticks % 15 === 0) {
          // Keeps proxies and the browser from timing the stream out while nothing changes.
          client.response.write(': still here\n\n');
        }
      }
    } finally {
      ticking = false;
    }
  }
  const timer = setInterval(() => void tick(), options.refreshMilliseconds);
  timer.unref();

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const host = readHostName(request.headers.host);
    if (!host || !loopbackHosts.has(host)) throw new HttpProblem(421, 'forbidden', 'The chargen UI answers only at 127.0.0.1 or localhost.');
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    const path = url.pathname;

    if (method === 'GET' || method === 'HEAD') {
      const asset = assets[path as keyof typeof assets];
      if (asset) {
        const body = await readFile(join(assetsDirectory, asset.file));
        response.writeHead(200, { ...securityHeaders, 'content-type': asset.type, 'cache-control': 'no-cache' });
        return void response.end(method === 'HEAD' ? undefined : body);
      }
      if (path === '/favicon.ico') {
        response.writeHead(204, securityHeaders);
        return void response.end();
      }
      if (path === '/api/queue') return sendJson(response, 200, await state.readQueue());
      if (path === '/api/events') {
        response.writeHead(200, { ...securityHeaders, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
        response.write('retry: 2000\n\n');
        const client = { response, last: '' };
        clients.add(client);
        request.on('close', () => clients.delete(client));
        void tick();
        return;
      }
      if (path === '/api/gallery') {
        const query = parseWith(galleryQuerySchema, Object.fromEntries(url.searchParams));
        const page = await state.readGalleryPage(query);
        return sendJson(response, 200, {
          ...page,
          items: page.items.map((item) => ({ ...item, sourceUrl: `/media/source/${item.id}`, ...(item.image ? { imageUrl: `/media/output/${item.id}` } : {}) })),
        });
      }
      const detail = /^\/api\/gallery\/([0-9a-f]{64})$/.exec(path);
      if (detail) {
        const found = await state.readGalleryDetail(detail[1] as string);
        if (!found) throw new HttpProblem(404, 'not-found', 'No such image in this workspace (it may have been recompiled: reload the gallery).');
        return sendJson(response, 200, { ...found, sourceUrl: `/media/source/${found.id}`, ...(found.image ? { imageUrl: `/media/output/${found.id}` } : {}) });
      }
      const media = /^\/media\/(source|output)\/([0-9a-f]{64})$/.exec(path);
      if (media) {
        const found = await state.findItem(media[2] as string);
        if (!found) throw new HttpProblem(404, 'not-found', 'No such image in this workspace.');
        if (media[1] === 'output') {
          if (!found.item.image) throw new HttpProblem(404, 'not-found', 'This image has not been made.');
          return sendImage(request, response, options.outputDirectory, found.item.image);
        }
        return sendImage(request, response, options.inputDirectory, found.item.source);
      }
      throw new HttpProblem(404, 'not-found', `Nothing at ${path}.`);
    }

    if (method === 'POST') {
      checkActionOrigin(request);
      const body = await readJsonBody(request);
      if (path === '/api/plan') return sendJson(response, 200, await actions.plan(parseWith(runBodySchema, body)));
      if (path === '/api/runs') {
        await actions.startRun(parseWith(runBodySchema, body));
        void tick();
        return sendJson(response, 202, { started: true });
      }
      if (path === '/api/jobs/cancel') {
        const cancelled = await actions.cancelJob(parseWith(cancelBodySchema, body).name);
        return sendJson(response, 200, { cancelled });
      }
      throw new HttpProblem(404, 'not-found', `No action at ${path}.`);
    }
    throw new HttpProblem(405, 'usage', `${method} is not served here.`);
  }

  return {
    handle(request, response) {
      route(request, response).catch((error: unknown) => sendProblem(response, error));
    },
    async close() {
      clearInterval(timer);
      for (const client of clients) client.response.end();
      clients.clear();
    },
  };
}
