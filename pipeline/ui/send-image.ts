import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { imageTypeByExtension } from '../../lib/media/describe-source-preview.ts';
import { HttpProblem, securityHeaders } from './http-problem.ts';
import { resolveConfinedPath } from './resolve-confined-path.ts';

/** An image of the input or output folder (never outside it), streamed, with an etag so the browser can keep it (and any headers given, on a 200). */
export async function sendImage(request: IncomingMessage, response: ServerResponse, folder: string, path: string, headers: Record<string, string> = {}): Promise<void> {
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
  response.writeHead(200, { ...securityHeaders, 'content-type': type, 'content-length': String(info.size), 'cache-control': 'no-cache', etag, ...headers });
  if (request.method === 'HEAD') return void response.end();
  const stream = createReadStream(resolved);
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}
