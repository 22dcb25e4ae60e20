import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { regenerateEditsSchema } from '../regenerate/compose-regenerate-prompt.ts';
import type { UiRoutes } from './ui-routes.ts';
import { HttpProblem } from './http-problem.ts';
import { parseWith } from './read-action-request.ts';
import { sendImage } from './send-image.ts';
import { sendThumbnail } from './send-thumbnail.ts';

const addBodySchema = z.object({ source: z.string().min(1, 'the image’s source, as the gallery names it'), variant: z.number().int().min(1), edits: regenerateEditsSchema.default({}) }).strict();
const idBodySchema = z.object({ id: z.number().int().min(1) }).strict();
const autoSubmitBodySchema = z.object({ size: z.number().int().min(1).max(10_000).nullable() }).strict();
const chooseBodySchema = z.object({ version: z.number().int().min(1) }).strict();
const versionsQuerySchema = z.object({ source: z.string().min(1), variant: z.coerce.number().int().min(1).optional() }).strict();

/** POST actions of the artist's loop (origin and body already checked by the caller); false when the path is none of them. */
export async function routeRegenerateAction(routes: UiRoutes, response: ServerResponse, path: string, body: unknown): Promise<boolean> {
  const { regenerate } = routes.options;
  const done = (status: number, value: unknown) => {
    routes.sendJson(response, status, value);
    void routes.queueStream.tick();
    return true;
  };
  if (path === '/api/regenerate/queue') return done(201, await regenerate.add(parseWith(addBodySchema, body)));
  if (path === '/api/regenerate/remove') return done(200, await regenerate.remove(parseWith(idBodySchema, body).id).then(() => ({ removed: true })));
  if (path === '/api/regenerate/submit') {
    parseWith(z.object({}).strict(), body);
    return done(202, await regenerate.submit().then(() => ({ submitted: true })));
  }
  if (path === '/api/regenerate/run-now') return done(202, await regenerate.runNow(parseWith(idBodySchema, body).id).then(() => ({ submitted: true })));
  if (path === '/api/regenerate/auto-submit') {
    const { size } = parseWith(autoSubmitBodySchema, body);
    await regenerate.setAutoSubmit(size ?? undefined);
    return done(200, { autoSubmitAt: size });
  }
  if (path === '/api/versions/choose') return done(200, await regenerate.choose(parseWith(chooseBodySchema, body).version));
  return false;
}

/**
 * GET `/api/versions?source=&variant=` (one image's versions; without variant, the character's), `/media/version/<id>`
 * (a version's image) and `/media/version-thumbnail/<id>` (its thumbnail).
 */
export async function routeRegenerateRead(routes: UiRoutes, request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean> {
  const { regenerate } = routes.options;
  if (url.pathname === '/api/versions') {
    const query = parseWith(versionsQuerySchema, Object.fromEntries(url.searchParams));
    const versions = await regenerate.versions(query.source, query.variant);
    routes.sendJson(response, 200, { versions: versions.map((version) => ({ ...version, imageUrl: `/media/version/${version.id}`, thumbnailUrl: `/media/version-thumbnail/${version.id}` })) });
    return true;
  }
  if (url.pathname === '/api/regenerate') {
    routes.sendJson(response, 200, await regenerate.view());
    return true;
  }
  const media = /^\/media\/(version|version-thumbnail)\/([1-9][0-9]{0,15})$/.exec(url.pathname);
  if (!media) return false;
  const found = await regenerate.versionImage(Number(media[2]));
  if (!found) throw new HttpProblem(404, 'not-found', 'No such version in this workspace.');
  if (media[1] === 'version') {
    await sendImage(request, response, found.folder, found.file);
    return true;
  }
  // Versions side by side are looked at small: their thumbnails, made and kept as the gallery's are.
  await sendThumbnail(request, response, { thumbnails: routes.options.thumbnails, folder: found.folder, path: found.file });
  return true;
}
