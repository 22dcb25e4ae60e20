import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ThumbnailCache } from '../../lib/media/thumbnail-cache.ts';
import { HttpProblem, securityHeaders } from './http-problem.ts';
import { resolveConfinedPath } from './resolve-confined-path.ts';

/**
 * An image's WebP thumbnail. Its etag names the source file as it is now, so a page asks again with If-None-Match
 * and gets a 304 without the thumbnail being made or read; an image replaced gets a new one.
 */
export async function sendThumbnail(request: IncomingMessage, response: ServerResponse, options: { thumbnails: ThumbnailCache; folder: string; path: string }): Promise<void> {
  // Only from inside the folder, links followed and checked, as sendImage serves the full image.
  const resolved = await resolveConfinedPath({ folder: options.folder, path: options.path });
  if (!resolved) throw new HttpProblem(404, 'not-found', 'No such image in the input or output folder.');
  const etag = await options.thumbnails.readTag(resolved);
  if (etag !== undefined && request.headers['if-none-match'] === etag) {
    response.writeHead(304, { etag, 'cache-control': 'no-cache' });
    return void response.end();
  }
  const thumbnail = await options.thumbnails.read(resolved);
  if (!thumbnail) throw new HttpProblem(404, 'not-found', 'No thumbnail for this file (it is gone, or not an image a thumbnail can be made of).');
  response.writeHead(200, { ...securityHeaders, 'content-type': 'image/webp', 'content-length': String(thumbnail.bytes.length), 'cache-control': 'no-cache', etag: thumbnail.etag });
  response.end(request.method === 'HEAD' ? undefined : thumbnail.bytes);
}
