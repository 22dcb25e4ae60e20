import type { IncomingMessage } from 'node:http';
import { request as sendHttpRequest } from 'node:http';
import { request as sendHttpsRequest } from 'node:https';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { DownloadError } from '../errors.ts';

const maxRedirects = 5;
const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/** The idle timer, and what it cuts when it fires: the request, then its response once that has come. */
export interface Stall {
  arm(): void;
  watch(target: { destroy(error: Error): void }): void;
  clear(): void;
}

export function createStall(options: { idleTimeoutMilliseconds: number }): Stall {
  let timer: NodeJS.Timeout | undefined;
  let target: { destroy(error: Error): void } | undefined;
  return {
    arm() {
      clearTimeout(timer);
      timer = setTimeout(() => target?.destroy(new Error(`no data for ${options.idleTimeoutMilliseconds} ms`)), options.idleTimeoutMilliseconds);
    },
    watch(next) {
      target = next;
    },
    clear() {
      clearTimeout(timer);
    },
  };
}

function sendGet(options: { url: URL; headers: Record<string, string>; stall: Stall }): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = options.url.protocol === 'https:' ? sendHttpsRequest : sendHttpRequest;
    const request = send(options.url, { method: 'GET', headers: options.headers }, (response) => {
      options.stall.watch(response);
      resolve(response);
    });
    options.stall.watch(request);
    request.once('error', reject);
    request.end();
  });
}

/**
 * GETs `url`, following redirects as the real API answers the SDK's download URL (302 to `/download/v1beta/…`,
 * recorded in maruel/genai `providers/gemini/testdata/TestClient/GenAsync-Video.yaml`). The key goes only to the
 * origin it was given for; a redirect elsewhere (a signed URL, say) is followed without it.
 */
export async function openFollowingRedirects(options: { url: URL; apiKey: string; fileName: string; stall: Stall; headers: Record<string, string> }): Promise<IncomingMessage> {
  let url = options.url;
  for (let hops = 0; ; hops += 1) {
    const headers: Record<string, string> = { ...options.headers };
    if (url.origin === options.url.origin) headers['x-goog-api-key'] = options.apiKey;
    options.stall.arm();
    const response = await sendGet({ url, headers, stall: options.stall });
    const location = response.headers.location;
    if (!redirectStatuses.has(response.statusCode ?? 0) || location === undefined) return response;
    response.resume();
    // Locations are left out of messages: one could carry a signature.
    if (hops >= maxRedirects) throw new DownloadError({ fileName: options.fileName, message: `more than ${maxRedirects} redirects` });
    url = new URL(location, url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new DownloadError({ fileName: options.fileName, message: `redirected to a ${url.protocol} URL`, isRetryable: false });
    }
  }
}

/** Strict decoders: unlike fetch's, they fail on a truncated stream (gzip's trailer carries its CRC and length). */
export function createDecoders(options: { contentEncoding: string | undefined; fileName: string }): Transform[] {
  const codings = (options.contentEncoding ?? '').split(',').map((coding) => coding.trim().toLowerCase()).filter((coding) => coding !== '' && coding !== 'identity');
  return codings.reverse().map((coding) => {
    if (coding === 'gzip' || coding === 'x-gzip') return createGunzip();
    if (coding === 'deflate') return createInflate();
    if (coding === 'br') return createBrotliDecompress();
    throw new DownloadError({ fileName: options.fileName, message: `unsupported content-encoding ${coding}`, isRetryable: false });
  });
}

export function createCounter(onChunk: (bytes: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onChunk(chunk.length);
      callback(null, chunk);
    },
  });
}

/** The first 500 characters of an error answer, decoded; a body that breaks off says what it said so far. */
export async function readErrorText(options: { response: IncomingMessage; fileName: string }): Promise<string> {
  const chunks: Buffer[] = [];
  const collector = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  try {
    await pipeline([options.response, ...createDecoders({ contentEncoding: options.response.headers['content-encoding'], fileName: options.fileName }), collector]);
  } catch {
    // What came is enough to name the error.
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, 500);
}
