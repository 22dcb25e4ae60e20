import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename } from 'node:path';
import yazl from 'yazl';
import { HttpProblem, securityHeaders } from './http-problem.ts';
import { resolveConfinedPath } from './resolve-confined-path.ts';
import { sendImage } from './send-image.ts';

/** `attachment` with the name as ASCII (quotes and non-ASCII replaced) and exactly (RFC 6266's `filename*`). */
export function formatAttachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** One image of the output folder, to be saved rather than shown. */
export async function sendImageDownload(request: IncomingMessage, response: ServerResponse, options: { folder: string; path: string }): Promise<void> {
  response.setHeader('content-disposition', formatAttachment(basename(options.path)));
  await sendImage(request, response, options.folder, options.path);
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
  for (const file of found) zip.addFile(file.path, file.name, { compress: !/\.(jpe?g|png|webp)$/i.test(file.name) });
  zip.end();
  const stream = zip.outputStream;
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}
