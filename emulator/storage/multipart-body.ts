import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { invalidRequest } from './storage-error.ts';

/** The part before the object's bytes (boundary, the metadata part, the media part's headers) stays small. */
const headLimitBytes = 1024 * 1024;

export interface MultipartUpload {
  /** The first part: the object's metadata as JSON. */
  metadataText: string;
  /** The media part's own Content-Type, if it gave one. */
  mediaContentType: string | undefined;
}

/** `multipart/related; boundary=…` (quoted or not); undefined for any other content type. */
export function readBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/related\s*;/i.test(contentType)) return undefined;
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** Finds the metadata part and the media part's headers in the first bytes; undefined while they are incomplete. */
function parseHead(head: Buffer, boundary: string): (MultipartUpload & { mediaStart: number }) | undefined {
  const dashBoundary = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const first = head.indexOf(dashBoundary);
  if (first < 0) return undefined;
  const metadataHeadersEnd = head.indexOf('\r\n\r\n', first);
  if (metadataHeadersEnd < 0) return undefined;
  const metadataEnd = head.indexOf(delimiter, metadataHeadersEnd + 4);
  if (metadataEnd < 0) return undefined;
  const mediaHeadersEnd = head.indexOf('\r\n\r\n', metadataEnd + delimiter.length);
  if (mediaHeadersEnd < 0) return undefined;
  const mediaHeaders = parseHeaders(head.subarray(metadataEnd + delimiter.length, mediaHeadersEnd).toString('utf8'));
  return {
    metadataText: head.subarray(metadataHeadersEnd + 4, metadataEnd).toString('utf8'),
    mediaContentType: mediaHeaders['content-type'],
    mediaStart: mediaHeadersEnd + 4,
  };
}

/**
 * Reads a `multipart/related` upload (metadata part, then media part), streaming the media part's bytes to
 * `mediaPath` as they come: an object of any size passes through a small window kept to spot the closing boundary.
 */
export async function receiveMultipart(options: { request: IncomingMessage; boundary: string; mediaPath: string }): Promise<MultipartUpload> {
  const delimiter = Buffer.from(`\r\n--${options.boundary}`);
  const output = createWriteStream(options.mediaPath);
  let head: Buffer = Buffer.alloc(0);
  let parsed: MultipartUpload | undefined;
  let window: Buffer = Buffer.alloc(0);
  let closed = false;
  const write = async (bytes: Buffer) => {
    if (bytes.length > 0 && !output.write(bytes)) await once(output, 'drain');
  };
  try {
    for await (const chunk of options.request as AsyncIterable<Buffer>) {
      if (closed) continue;
      if (!parsed) {
        head = Buffer.concat([head, chunk]);
        const found = parseHead(head, options.boundary);
        if (!found) {
          if (head.length > headLimitBytes) throw invalidRequest('Multipart upload: the metadata part is too large or malformed.');
          continue;
        }
        parsed = { metadataText: found.metadataText, mediaContentType: found.mediaContentType };
        window = head.subarray(found.mediaStart);
      } else {
        window = Buffer.concat([window, chunk]);
      }
      const end = window.indexOf(delimiter);
      if (end >= 0) {
        await write(window.subarray(0, end));
        closed = true;
        continue;
      }
      const keep = Math.min(window.length, delimiter.length - 1);
      await write(window.subarray(0, window.length - keep));
      window = window.subarray(window.length - keep);
    }
  } finally {
    output.end();
    await once(output, 'close');
  }
  if (!parsed || !closed) throw invalidRequest('Multipart upload: the body ended before its closing boundary.');
  return parsed;
}
