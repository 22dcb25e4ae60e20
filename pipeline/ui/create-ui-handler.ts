import type { IncomingMessage, ServerResponse } from 'node:http';
import { redactText } from '../../lib/redact-secret.ts';
import { ChargenError, type ErrorCode } from '../../lib/errors.ts';
import { createQueueStream } from './create-queue-stream.ts';
import { HttpProblem, securityHeaders } from './http-problem.ts';
import { readHostName } from './read-action-request.ts';
import { routeUiAction } from './route-ui-actions.ts';
import { routeUiRead } from './route-ui-reads.ts';
import type { UiHandlerOptions, UiRoutes } from './ui-routes.ts';

export type { UiHandlerOptions };

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The HTTP status of a ChargenError the page is told of; any other code is 422. */
const httpStatusByCode: Partial<Record<ErrorCode, number>> = { 'workspace-locked': 409, 'workspace-missing': 404, 'gemini-call-failed': 502, 'api-unreachable': 502, usage: 400 };

export interface UiHandler {
  handle(request: IncomingMessage, response: ServerResponse): void;
  /** Sends open pages the queue now (a batch from the page ended). */
  tick(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The UI server as a plain request handler (served on port 0 in tests). It answers only requests addressed to a
 * loopback name (so a web page elsewhere cannot reach it by DNS rebinding) and takes actions only from its own page.
 */
export function createUiHandler(options: UiHandlerOptions): UiHandler {
  const redact = (text: string) => options.secrets.filter((secret) => secret.length >= 6).reduce(redactText, text);

  function toProblem(error: unknown): HttpProblem {
    if (error instanceof HttpProblem) return error;
    if (error instanceof ChargenError) return new HttpProblem(httpStatusByCode[error.code] ?? 422, error.code, redact(error.message));
    options.logger.error(redact((error as Error).stack ?? String(error)));
    return new HttpProblem(500, 'internal', 'Unexpected error in the UI server; its terminal has the details.');
  }

  function sendJson(response: ServerResponse, status: number, value: unknown): void {
    const body = redact(JSON.stringify(value));
    response.writeHead(status, { ...securityHeaders, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    response.end(body);
  }

  const queueStream = createQueueStream({ readQueue: () => options.state.readQueue(), redact, toProblem, refreshMilliseconds: options.refreshMilliseconds });
  const routes: UiRoutes = { options, sendJson, queueStream };

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const host = readHostName(request.headers.host);
    if (!host || !loopbackHosts.has(host)) throw new HttpProblem(421, 'forbidden', 'The chargen UI answers only at 127.0.0.1 or localhost.');
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    if (method === 'GET' || method === 'HEAD') return routeUiRead(routes, request, response, url);
    if (method === 'POST') return routeUiAction(routes, request, response, url.pathname);
    throw new HttpProblem(405, 'usage', `${method} is not served here.`);
  }

  return {
    handle(request, response) {
      route(request, response).catch((error: unknown) => {
        const problem = toProblem(error);
        if (response.headersSent) return void response.destroy();
        sendJson(response, problem.status, { error: { code: problem.code, message: problem.message } });
      });
    },
    tick: () => queueStream.tick(),
    async close() {
      queueStream.close();
    },
  };
}
