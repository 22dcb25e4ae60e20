import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { z } from 'zod';
import type { UiState } from './create-ui-state.ts';
import { HttpProblem, securityHeaders } from './http-problem.ts';
import { galleryStatuses } from './list-gallery-items.ts';
import { parseWith } from './read-action-request.ts';
import { sendImage } from './send-image.ts';
import { routeRegenerateRead } from './route-regenerate.ts';
import type { UiRoutes } from './ui-routes.ts';

const assetsDirectory = join(import.meta.dirname, 'assets');
const assets = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  // app.js's modules, each by name: nothing else under assets/ is served.
  '/page.js': { file: 'page.js', type: 'text/javascript; charset=utf-8' },
  '/actions.js': { file: 'actions.js', type: 'text/javascript; charset=utf-8' },
  '/queue-view.js': { file: 'queue-view.js', type: 'text/javascript; charset=utf-8' },
  '/gallery-view.js': { file: 'gallery-view.js', type: 'text/javascript; charset=utf-8' },
  '/regenerate-view.js': { file: 'regenerate-view.js', type: 'text/javascript; charset=utf-8' },
  '/versions-view.js': { file: 'versions-view.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
} as const;

const galleryQuerySchema = z.object({
  status: z.enum(galleryStatuses).optional(),
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(200).default(60),
});

/** The page's own files, read from assets/ at each request (an edit shows at the next reload). */
async function sendAsset(response: ServerResponse, path: string, method: string): Promise<boolean> {
  const asset = assets[path as keyof typeof assets];
  if (!asset) return false;
  const body = await readFile(join(assetsDirectory, asset.file));
  response.writeHead(200, { ...securityHeaders, 'content-type': asset.type, 'cache-control': 'no-cache' });
  response.end(method === 'HEAD' ? undefined : body);
  return true;
}

/** `/api/gallery` (a page of items) and `/api/gallery/<id>` (one item), each with the URLs of its images. */
async function sendGallery(routes: UiRoutes, response: ServerResponse, url: URL): Promise<boolean> {
  const { state } = routes.options;
  if (url.pathname === '/api/gallery') {
    const page = await state.readGalleryPage(parseWith(galleryQuerySchema, Object.fromEntries(url.searchParams)));
    routes.sendJson(response, 200, { ...page, items: page.items.map((item) => ({ ...item, ...mediaUrls(item) })) });
    return true;
  }
  const detail = /^\/api\/gallery\/([0-9a-f]{64})$/.exec(url.pathname);
  if (!detail) return false;
  const found = await state.readGalleryDetail(detail[1] as string);
  if (!found) throw new HttpProblem(404, 'not-found', 'No such image in this workspace (it may have been recompiled: reload the gallery).');
  routes.sendJson(response, 200, { ...found, ...mediaUrls(found) });
  return true;
}

function mediaUrls(item: { id: string; image?: string | undefined }): { sourceUrl: string; imageUrl?: string } {
  return { sourceUrl: `/media/source/${item.id}`, ...(item.image ? { imageUrl: `/media/output/${item.id}` } : {}) };
}

/** `/media/source/<id>` and `/media/output/<id>`: an item's reference image, or the image made from it. */
async function sendMedia(routes: UiRoutes, request: IncomingMessage, response: ServerResponse, state: UiState, path: string): Promise<boolean> {
  const media = /^\/media\/(source|output)\/([0-9a-f]{64})$/.exec(path);
  if (!media) return false;
  const found = await state.findItem(media[2] as string);
  if (!found) throw new HttpProblem(404, 'not-found', 'No such image in this workspace.');
  if (media[1] === 'output') {
    if (!found.item.image) throw new HttpProblem(404, 'not-found', 'This image has not been made.');
    await sendImage(request, response, routes.options.outputDirectory, found.item.image);
  } else {
    await sendImage(request, response, routes.options.inputDirectory, found.item.sourceFile ?? found.item.source);
  }
  return true;
}

/** GET and HEAD: the page, the queue (once or as a stream), the gallery, the images. */
export async function routeUiRead(routes: UiRoutes, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
  const method = request.method ?? 'GET';
  const path = url.pathname;
  if (await sendAsset(response, path, method)) return;
  if (path === '/favicon.ico') {
    response.writeHead(204, securityHeaders);
    return void response.end();
  }
  if (path === '/api/queue') return routes.sendJson(response, 200, await routes.options.state.readQueue());
  if (path === '/api/events') return routes.queueStream.open(request, response);
  if (await sendGallery(routes, response, url)) return;
  if (await sendMedia(routes, request, response, routes.options.state, path)) return;
  if (await routeRegenerateRead(routes, request, response, url)) return;
  throw new HttpProblem(404, 'not-found', `Nothing at ${path}.`);
}
