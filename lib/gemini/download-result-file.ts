import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { request as sendHttpRequest, type IncomingMessage } from 'node:http';
import { request as sendHttpsRequest } from 'node:https';
import { dirname } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { DownloadError, GeminiCallError } from '../errors.ts';

const maxRedirects = 5;
const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/** The idle timer, and what it cuts when it fires: the request, then its response once that has come. */
interface Stall {
  arm(): void;
  watch(target: { destroy(error: Error): void }): void;
  clear(): void;
}

function createStall(options: { idleTimeoutMilliseconds: number }): Stall {
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
async function openFollowingRedirects(options: { url: URL; apiKey: string; fileName: string; stall: Stall }): Promise<IncomingMessage> {
  let url = options.url;
  for (let hops = 0; ; hops += 1) {
    const headers: Record<string, string> = { 'accept-encoding': 'gzip' };
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
function createDecoders(options: { contentEncoding: string | undefined; fileName: string }): Transform[] {
  const codings = (options.contentEncoding ?? '').split(',').map((coding) => coding.trim().toLowerCase()).filter((coding) => coding !== '' && coding !== 'identity');
  return codings.reverse().map((coding) => {
    if (coding === 'gzip' || coding === 'x-gzip') return createGunzip();
    if (coding === 'deflate') return createInflate();
    if (coding === 'br') return createBrotliDecompress();
    throw new DownloadError({ fileName: options.fileName, message: `unsupported content-encoding ${coding}`, isRetryable: false });
  });
}

function createCounter(onChunk: (bytes: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onChunk(chunk.length);
      callback(null, chunk);
    },
  });
}

/**
 * Streams a generated file (a batch's results) to disk, as a real front end serves it: through a redirect, and
 * gzip-encoded when it chooses, whatever was asked. The SDK's own download pipes without passing on a body error,
 * so a cut connection can leave it waiting forever; and fetch decodes gzip leniently (a truncated stream with
 * whole framing reads as a short, clean body) while keeping `content-length` as the encoded size. So node:http, and
 * two checks: the bytes on the wire against `content-length`, and the decoded stream by a strict decoder. A cut,
 * short or truncated body, or a stall, is an error that the caller retries. It asks the URL the SDK does
 * (`/v1beta/files/{id}:download?alt=media`).
 */
export async function downloadResultFile(options: {
  baseUrl: string;
  apiKey: string;
  fileName: string;
  destination: string;
  idleTimeoutMilliseconds: number;
}): Promise<{ bytes: number }> {
  const url = new URL(`${options.baseUrl.replace(/\/+$/, '')}/v1beta/${options.fileName}:download?alt=media`);
  const stall = createStall(options);
  const partial = `${options.destination}.part`;
  await mkdir(dirname(options.destination), { recursive: true });
  let response: IncomingMessage | undefined;
  try {
    response = await openFollowingRedirects({ url, apiKey: options.apiKey, fileName: options.fileName, stall });
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const text = await readErrorText({ response, fileName: options.fileName });
      throw new GeminiCallError({ operation: `download ${options.fileName}`, status, message: text || (response.statusMessage ?? ''), isRetryable: status === 429 || status >= 500 });
    }
    const declared = Number(response.headers['content-length'] ?? Number.NaN);
    let received = 0;
    let bytes = 0;
    const onWire = createCounter((length) => {
      received += length;
      stall.arm();
    });
    const decoded = createCounter((length) => (bytes += length));
    const decoders = createDecoders({ contentEncoding: response.headers['content-encoding'], fileName: options.fileName });
    await pipeline([response, onWire, ...decoders, decoded, createWriteStream(partial)]);
    // content-length counts what came over the wire, encoded or not; never the decoded bytes.
    if (Number.isFinite(declared) && received !== declared) {
      throw new DownloadError({ fileName: options.fileName, message: `got ${received} of ${declared} bytes` });
    }
    await rename(partial, options.destination);
    return { bytes };
  } catch (error) {
    response?.destroy();
    await rm(partial, { force: true });
    if (error instanceof GeminiCallError || error instanceof DownloadError) throw error;
    throw new DownloadError({ fileName: options.fileName, message: error instanceof Error ? error.message : String(error), cause: error });
  } finally {
    stall.clear();
  }
}

/** The first 500 characters of an error answer, decoded; a body that breaks off says what it said so far. */
async function readErrorText(options: { response: IncomingMessage; fileName: string }): Promise<string> {
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
