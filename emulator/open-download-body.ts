import { pipeline as pipelineCallback, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip } from 'node:zlib';

export interface DownloadBody {
  stream: Readable;
  /** The bytes that go on the wire: `content-length`. */
  bytes: number;
  headers: Record<string, string>;
}

/** One setting for the measuring pass and the body sent, so both produce the same bytes (fast: it runs twice). */
function createDownloadGzip() {
  return createGzip({ level: constants.Z_BEST_SPEED });
}

async function measureGzipSize(open: () => Readable): Promise<number> {
  let size = 0;
  const counter = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      callback();
    },
  });
  await pipeline(open(), createDownloadGzip(), counter);
  return size;
}

/**
 * A stored file's body as the front end sends it: the bytes as they are, or gzip-encoded. Encoded, it still carries
 * a `content-length` (the encoded size, measured by a first streamed pass) rather than going chunked: that is the
 * shape that breaks a client comparing decoded bytes with `content-length` ("got 1082 of 616 bytes"), so the
 * emulator shows it. Either way the file is streamed from disk, never held whole.
 */
export async function openDownloadBody(options: { open: () => Readable; sizeBytes: number; gzip: boolean }): Promise<DownloadBody> {
  if (!options.gzip) return { stream: options.open(), bytes: options.sizeBytes, headers: { 'content-length': String(options.sizeBytes) } };
  const bytes = await measureGzipSize(options.open);
  // The callback form returns the gzip stream, and destroying it (a cut download) closes the file as well.
  const stream = pipelineCallback(options.open(), createDownloadGzip(), () => undefined);
  return { stream, bytes, headers: { 'content-length': String(bytes), 'content-encoding': 'gzip' } };
}
