import type { ServerResponse } from 'node:http';

/** An error in the Gemini envelope, so the SDK surfaces it as an ApiError carrying the message. */
export function sendProxyError(response: ServerResponse, options: { httpStatus: number; status: string; message: string }): void {
  const text = JSON.stringify({ error: { code: options.httpStatus, message: options.message, status: options.status } });
  response.writeHead(options.httpStatus, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': String(Buffer.byteLength(text)),
  });
  response.end(text);
}
