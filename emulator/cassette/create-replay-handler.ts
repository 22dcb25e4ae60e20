import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { bodiesDirectoryName, cassetteFileName, type Interaction } from './cassette-schema.ts';
import { findNearestRequest } from './find-nearest-request.ts';
import { hashRequestBody } from './hash-request-body.ts';
import { readCassette } from './read-cassette.ts';
import { readRequestBody } from './read-request-body.ts';
import { normalizeRequestTarget, redactKeyParameter } from './request-target.ts';
import { findRequestOrigin } from './find-request-origin.ts';
import { sendProxyError } from './send-proxy-error.ts';
import { writeRecordedResponse } from './write-recorded-response.ts';

/** A request the cassette had no answer for. */
export interface ReplayMiss {
  method: string;
  /** Path and query as asked, any key redacted. */
  url: string;
  bodyHash: string;
  /** The recorded request nearest to it on the same path (`METHOD url body <hash>`), if any. */
  nearest: string | undefined;
  message: string;
}

export interface ReplayHandler {
  (request: IncomingMessage, response: ServerResponse): void;
  /** Every request answered 501 so far, in order: a test fails loudly on any. */
  misses(): ReplayMiss[];
}

interface RecordedAnswers {
  interactions: Interaction[];
  used: number;
}

function buildMatchKey(options: { method: string; url: string; bodyHash: string }): string {
  return `${options.method} ${normalizeRequestTarget(options.url)} ${options.bodyHash}`;
}

function describeRequest(request: { method: string; url: string; bodyHash: string }): string {
  return `${request.method} ${request.url} body ${request.bodyHash}`;
}

/**
 * A node:http handler that answers from a cassette, read and validated first. A request is matched on method, path,
 * query (minus any key) and body hash; a request recorded several times gets its answers in recorded order and then
 * the last one again (a replaying client may poll more often than the recording did). Anything else is a 501
 * naming the request, kept in `misses()`.
 */
export async function createReplayHandler(options: { cassetteDirectory: string }): Promise<ReplayHandler> {
  const cassette = await readCassette(options);
  const cassettePath = join(options.cassetteDirectory, cassetteFileName);
  const bodiesDirectory = join(options.cassetteDirectory, bodiesDirectoryName);
  const answers = new Map<string, RecordedAnswers>();
  for (const interaction of cassette.interactions) {
    const key = buildMatchKey(interaction.request);
    const existing = answers.get(key);
    if (existing === undefined) answers.set(key, { interactions: [interaction], used: 0 });
    else existing.interactions.push(interaction);
  }
  const misses: ReplayMiss[] = [];

  const answer = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const method = request.method ?? 'GET';
    const url = redactKeyParameter(request.url ?? '/');
    const bodyHash = hashRequestBody(await readRequestBody(request));
    const recorded = answers.get(buildMatchKey({ method, url, bodyHash }));
    if (recorded === undefined) {
      const nearestRequest = findNearestRequest({ interactions: cassette.interactions, method, url });
      const nearest = nearestRequest === undefined ? undefined : describeRequest(nearestRequest);
      const message =
        `The cassette ${cassettePath} has no answer for ${describeRequest({ method, url, bodyHash })}; ` +
        (nearest === undefined ? 'nothing was recorded on that path.' : `the nearest recorded request on that path is ${nearest}.`);
      misses.push({ method, url, bodyHash, nearest, message });
      sendProxyError(response, { httpStatus: 501, status: 'UNIMPLEMENTED', message });
      return;
    }
    const index = Math.min(recorded.used, recorded.interactions.length - 1);
    recorded.used += 1;
    const interaction = recorded.interactions[index];
    if (interaction === undefined) throw new Error(`no recorded answer at ${index}`);
    await writeRecordedResponse({ response, recorded: interaction.response, bodiesDirectory, origin: findRequestOrigin(request) });
  };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    answer(request, response).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      if (response.destroyed) return;
      sendProxyError(response, {
        httpStatus: 500,
        status: 'INTERNAL',
        message: `The replay server failed to answer ${request.method ?? 'GET'} ${redactKeyParameter(request.url ?? '/')}: ${error instanceof Error ? error.message : String(error)}`,
      });
    });
  };
  return Object.assign(handle, { misses: () => misses.map((miss) => ({ ...miss })) });
}
