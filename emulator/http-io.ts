import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { invalidArgument, toErrorEnvelope, type RpcStatus } from './api-error.ts';
import { isGzipNegotiated } from './negotiate-gzip.ts';

export class HttpRejection extends Error {
  constructor(readonly status: RpcStatus) {
    super(status.message);
  }
}

/** Reads a whole JSON body (small requests only; uploads are streamed elsewhere). */
export async function readJsonBody(request: IncomingMessage, options: { limitBytes: number; tooLargeMessage?: string }): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > options.limitBytes) {
      request.resume();
      throw new HttpRejection(
        invalidArgument(options.tooLargeMessage ?? `Request payload size exceeds the limit: ${options.limitBytes} bytes.`),
      );
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpRejection(invalidArgument(`Invalid JSON payload received. Unexpected token in the request body.`));
  }
}

/** A JSON answer; gzip-encoded when the front end negotiated it, `content-length` then giving the encoded size. */
export function sendJson(response: ServerResponse, statusCode: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = Buffer.from(JSON.stringify(body), 'utf8');
  const gzip = isGzipNegotiated(response);
  const bytes = gzip ? gzipSync(text) : text;
  response.writeHead(statusCode, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': String(bytes.length),
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    ...headers,
  });
  response.end(bytes);
}

export function sendError(response: ServerResponse, error: RpcStatus): void {
  sendJson(response, error.httpStatus, toErrorEnvelope(error));
}

export function isPlainObject(input: unknown): input is Record<string, unknown> {
  return typeof input === 'object' && input !== null && !Array.isArray(input);
}
