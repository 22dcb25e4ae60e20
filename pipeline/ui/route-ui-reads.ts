import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, join } from 'node:path';
import { z } from 'zod';
import type { UiState } from './create-ui-state.ts';
import { HttpProblem, securityHeaders } from './http-problem.ts';
import { galleryStatuses } from './list-gallery-items.ts';
import { parseWith } from './read-action-request.ts';
import { sendImage } from './send-image.ts';
import { routeRegenerateRead } from './route-regenerate.ts';
import { sendImageDownload, sendZip } from './send-download.ts';
import { sendThumbnail } from './send-thumbnail.ts';
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

/** The page's URLs of an item's images: full size for the detail view, thumbnails for tiles, and its downloads. */
function mediaUrls(item: { id: string; image?: string | undefined }): { sourceUrl: string; sourceThumbnailUrl: string; imageUrl?: string; thumbnailUrl?: string; downloadUrl?: string; characterDownloadUrl?: string } {
  return {
    sourceUrl: `/media/source/${item.id}`,
    sourceThumbnailUrl: `/media/thumbnail/source/${item.id}`,
    ...(item.image ? { imageUrl: `/media/output/${item.id}`, thumbnailUrl: `/media/thumbnail/output/${item.id}`, downloadUrl: `/download/output/${item.id}`, characterDownloadUrl: `/download/character/${item.id}` } : {}),
  };
}

/** The folder and path of an item's image: the one made from it, or its reference in the input folder. */
async function findItemFile(state: UiState, routes: UiRoutes, options: { id: string; kind: 'source' | 'output' }): Promise<{ folder: string; path: string; source: string }> {
  const found = await state.findItem(options.id);
  if (!found) throw new HttpProblem(404, 'not-found', 'No such image in this workspace.');
  if (options.kind !== 'output') return { folder: routes.options.inputDirectory, path: found.item.sourceFile ?? found.item.source, source: found.item.source };
  if (!found.item.image) throw new HttpProblem(404, 'not-found', 'This image has not been made.');
  return { folder: routes.options.outputDirectory, path: found.item.image, source: found.item.source };
}

/**
 * `/media/source/<id>`, `/media/output/<id>`: an item's reference image, or the image made from it; under
 * `/media/thumbnail/` the same as a small WebP (made once, kept in the workspace, revalidated by its etag).
 */
async function sendMedia(routes: UiRoutes, request: IncomingMessage, response: ServerResponse, state: UiState, path: string): Promise<boolean> {
  const media = /^\/media\/(thumbnail\/)?(source|output)\/([0-9a-f]{64})$/.exec(path);
  if (!media) return false;
  const file = await findItemFile(state, routes, { id: media[3] as string, kind: media[2] === 'output' ? 'output' : 'source' });
  if (!media[1]) {
    await sendImage(request, response, file.folder, file.path);
    return true;
  }
  await sendThumbnail(request, response, { thumbnails: routes.options.thumbnails, folder: file.folder, path: file.path });
  return true;
}

/** `/download/output/<id>`, `/download/character/<id>` (a zip of its character's images), `/download/output-folder` (a zip of the output folder's). */
async function sendDownload(routes: UiRoutes, request: IncomingMessage, response: ServerResponse, state: UiState, path: string): Promise<boolean> {
  const { outputDirectory } = routes.options;
  if (path === '/download/output-folder') {
    const outputs = await state.listOutputs();
    await sendZip(request, response, { folder: outputDirectory, files: outputs.flatMap((output) => [output.image, output.sidecar]), name: `${basename(outputDirectory)}.zip` });
    return true;
  }
  const download = /^\/download\/(output|character)\/([0-9a-f]{64})$/.exec(path);
  if (!download) return false;
  const file = await findItemFile(state, routes, { id: download[2] as string, kind: 'output' });
  if (download[1] === 'output') {
    await sendImageDownload(request, response, file);
    return true;
  }
  const outputs = await state.listOutputs({ source: file.source });
  await sendZip(request, response, { folder: outputDirectory, files: outputs.flatMap((output) => [output.image, output.sidecar]), name: `${basename(file.source).replace(/\.[^.]*$/, '')}.zip` });
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
  if (await sendDownload(routes, request, response, routes.options.state, path)) return;
  throw new HttpProblem(404, 'not-found', `Nothing at ${path}.`);
}
