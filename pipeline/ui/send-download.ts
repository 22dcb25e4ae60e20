import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { basename } from 'node:path';
import yazl from 'yazl';
import { HttpProblem, securityHeaders } from './http-problem.ts';
import { resolveConfinedPath } from './resolve-confined-path.ts';
import { sendImage } from './send-image.ts';

/** `attachment` with the name as ASCII (quotes and non-ASCII replaced) and exactly (RFC 6266's `filename*`). */
export function formatAttachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  // RFC 5987's attr-char leaves out ' ( ) * as well, which encodeURIComponent keeps.
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** One image of the output folder, to be saved rather than shown. */
export async function sendImageDownload(request: IncomingMessage, response: ServerResponse, options: { folder: string; path: string }): Promise<void> {
  // Only on the image itself: a 404 must not be saved under the image's name.
  await sendImage(request, response, options.folder, options.path, { 'content-disposition': formatAttachment(basename(options.path)) });
}

/**
 * Files of the output folder (images and their sidecars) as one zip, streamed as it is written. JPEG and PNG are
 * compressed already: they are stored, not deflated again. A file that is gone is left out; none at all is a 404.
 */
export async function sendZip(request: IncomingMessage, response: ServerResponse, options: { folder: string; files: readonly string[]; name: string }): Promise<void> {
  const found: { path: string; name: string }[] = [];
  const names = new Set<string>();
  for (const file of options.files) {
    const path = await resolveConfinedPath({ folder: options.folder, path: file });
    const info = path ? await stat(path).catch(() => undefined) : undefined;
    if (!path || !info?.isFile() || names.has(file)) continue;
    names.add(file);
    found.push({ path, name: file.split('\\').join('/') });
  }
  if (found.length === 0) throw new HttpProblem(404, 'not-found', 'None of these images is in the output folder.');
  response.writeHead(200, { ...securityHeaders, 'content-type': 'application/zip', 'content-disposition': formatAttachment(options.name), 'cache-control': 'no-store' });
  if (request.method === 'HEAD') return void response.end();
  const zip = new yazl.ZipFile();
  // A file changed or removed while it is read is an error of the zip itself: the download ends cut, the server goes on.
  zip.on('error', () => response.destroy());
  for (const file of found) zip.addFile(file.path, file.name, { compress: !/\.(jpe?g|png|webp)$/i.test(file.name) });
  zip.end();
  const stream = zip.outputStream as Readable;
  stream.on('error', () => response.destroy());
  // A browser that goes away stops the reading of the files.
  response.on('close', () => {
    if (!response.writableFinished) stream.unpipe(response).destroy();
  });
  stream.pipe(response);
}
