import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatCrc32c } from '../../lib/crc32c.ts';
import { invalidArgument, notFound, toErrorEnvelope } from '../api-error.ts';
import { versionPattern, type Route, type RouteInput } from '../emulator-context.ts';
import type { StoredFile } from '../file-store.ts';
import { HttpRejection, sendJson } from '../http-io.ts';
import { isGzipNegotiated } from '../negotiate-gzip.ts';
import { openDownloadBody } from '../open-download-body.ts';

/** The bytes a Range header asks for, inclusive; undefined for no Range, or one this front end ignores (RFC 9110). */
type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/** Reads `bytes=N-`, `bytes=N-M` and `bytes=-K`; several ranges, or another unit, are ignored (the whole file goes). */
export function parseRangeHeader(header: string | undefined, size: number): ByteRange {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (match[2] !== '' && Number(match[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/**
 * Sends about half the body (encoded, if it is), then drops the connection: the client sees a body shorter than
 * content-length, which it must report as an error, never as a short file.
 */
export async function sendCut(options: { source: Readable; bytes: number; input: RouteInput }): Promise<void> {
  const { source, input } = options;
  let remaining = Math.floor(options.bytes / 2);
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (remaining <= 0) return callback();
      const slice = chunk.subarray(0, remaining);
      remaining -= slice.length;
      callback(null, slice);
    },
  });
  await new Promise<void>((resolve) => {
    const finish = () => {
      source.destroy();
      input.response.socket?.destroy();
      resolve();
    };
    limiter.once('end', finish);
    input.response.once('close', finish);
    source.pipe(limiter).pipe(input.response, { end: false });
  });
}

/**
 * Headers as on the recorded real download (maruel/genai GenAsync-Video.yaml, interaction 59): content-disposition
 * and `X-Goog-Hash: crc32c=…` of the whole stored file. A Range answer keeps the whole file's hash (as Google's
 * storage front end does for partial content; unrecorded of this one).
 */
function baseHeaders(file: StoredFile): Record<string, string> {
  return { 'content-type': file.mimeType, 'content-disposition': 'attachment', 'x-goog-hash': `crc32c=${formatCrc32c(file.crc32c)}` };
}

/**
 * A generated file's bytes. Whole (200, gzip-encoded when negotiated), or the part a Range asks for (206 with
 * Content-Range, never encoded: a compressing front end leaves partial content alone, and a range of an encoding
 * made on the fly could not be continued), or 416 with `Content-Range: bytes *\/size` past the end.
 */
export const downloadRoute: Route = {
  method: 'GET',
  pattern: new RegExp(`^(?:/download)?/${versionPattern}/files/(?<id>[^/:]+):download$`),
  endpoint: 'files.download',
  requiresKey: true,
  handle: async (context, input) => {
    if (input.url.searchParams.get('alt') !== 'media') {
      throw new HttpRejection(invalidArgument('Downloads need the query parameter alt=media.'));
    }
    const file = context.files.findLive(input.parameters['id'] ?? '');
    if (!file) throw new HttpRejection(notFound());
    if (file.source !== 'GENERATED') {
      throw new HttpRejection(invalidArgument('Only generated files can be downloaded; this file was uploaded.'));
    }
    const range = parseRangeHeader(input.request.headers.range, file.sizeBytes);
    if (range === 'unsatisfiable') {
      // The envelope's wording is a guess: no 416 of this front end was recorded.
      const error = { httpStatus: 416, status: 'OUT_OF_RANGE', message: 'Request range not satisfiable' } as const;
      sendJson(input.response, 416, toErrorEnvelope(error), { 'content-range': `bytes */${file.sizeBytes}` });
      return;
    }
    context.stats.downloads += 1;
    const cut = context.faults.takeDownloadCut();
    let source: Readable;
    let bytes: number;
    if (range === undefined) {
      const body = await openDownloadBody({ open: () => context.files.openRead(file), sizeBytes: file.sizeBytes, gzip: isGzipNegotiated(input.response) });
      input.response.writeHead(200, { ...baseHeaders(file), ...body.headers });
      source = body.stream;
      bytes = body.bytes;
    } else {
      bytes = range.end - range.start + 1;
      source = context.files.openRead(file, { start: range.start, end: range.end });
      input.response.writeHead(206, { ...baseHeaders(file), 'content-length': String(bytes), 'content-range': `bytes ${range.start}-${range.end}/${file.sizeBytes}` });
    }
    if (cut) await sendCut({ source, bytes, input });
    else await pipeline(source, input.response);
  },
};
