import { formatCrc32c } from '../../lib/crc32c.ts';
import type { EmulatorContext } from '../emulator-context.ts';
import type { StoredObject, WriteCheck } from './object-store.ts';
import { checkWrite } from './preconditions.ts';
import { invalidRequest, StorageError } from './storage-error.ts';
import { readHeader, type StorageRouteInput } from './storage-route.ts';
import type { ResumableSession } from './upload-sessions.ts';

/** Every chunk but the last is a multiple of 256 KiB (Google's "perform resumable uploads" page). */
const chunkGranularity = 256 * 1024;

// `bytes */*` and `bytes */T` ask for the status; `bytes A-B/T`, `A-B/*`, `A-*/T` and `A-*/*` carry bytes.
type ContentRange = { kind: 'status'; total?: number } | { kind: 'bytes'; first: number; last?: number; total?: number };

function parseContentRange(header: string | undefined): ContentRange | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes (?:\*|(\d+)-(\d+|\*))\/(\d+|\*)$/.exec(header.trim());
  if (!match) throw invalidRequest(`Invalid Content-Range header: ${header}`);
  const total = match[3] === '*' ? undefined : Number(match[3]);
  if (match[1] === undefined) return { kind: 'status', ...(total !== undefined ? { total } : {}) };
  const last = match[2] === '*' ? undefined : Number(match[2]);
  return { kind: 'bytes', first: Number(match[1]), ...(last !== undefined ? { last } : {}), ...(total !== undefined ? { total } : {}) };
}

/** 308 Resume Incomplete, with `Range: bytes=0-N` of what is kept (no Range before the first byte). */
function sendIncomplete(input: StorageRouteInput, session: ResumableSession): void {
  input.response.writeHead(308, { 'content-length': '0', ...(session.received > 0 ? { range: `bytes=0-${session.received - 1}` } : {}) });
  input.response.end();
}

/** The final request's `X-Goog-Hash` (crc32c and/or md5, base64) must match the bytes received. */
function checkHashes(header: string | undefined, preconditions: WriteCheck): WriteCheck {
  const expected = new Map((header ?? '').split(',').map((pair) => [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1).trim()] as const));
  return (current, hashes) => {
    const crc32c = expected.get('crc32c');
    if (crc32c && crc32c !== formatCrc32c(hashes.crc32c)) {
      throw invalidRequest(`Provided CRC32C "${crc32c}" doesn't match calculated CRC32C "${formatCrc32c(hashes.crc32c)}".`);
    }
    const md5 = expected.get('md5');
    if (md5 && md5 !== hashes.md5Base64) throw invalidRequest(`Provided MD5 hash "${md5}" doesn't match calculated MD5 hash "${hashes.md5Base64}".`);
    preconditions(current, hashes);
  };
}

async function finish(context: EmulatorContext, input: StorageRouteInput, session: ResumableSession): Promise<StoredObject> {
  try {
    session.result = await context.storage.objects.commit({
      bucket: session.bucket,
      name: session.name,
      contentType: session.contentType,
      temporaryPath: session.path,
      check: checkHashes(readHeader(input, 'x-goog-hash'), checkWrite(session.preconditions)),
    });
    context.stats.objectsWritten += 1;
    return session.result;
  } catch (error) {
    // A refused upload is over: its bytes are gone and a retry starts a new session.
    await context.storage.uploads.end(session);
    throw error;
  }
}

/**
 * One PUT to a resumable session: a status query, or bytes at an offset. The upload completes when the total is
 * reached, or at the end of a body whose range has no last byte (`bytes A-*\/*`: the client streams it in one
 * request; Google's storage-testbench completes it so). A non-final chunk keeps whole 256 KiB units and says so in
 * its 308 Range, which is why the client never assumes all it sent was kept. Resolves to the object when complete.
 */
export async function receiveChunk(context: EmulatorContext, input: StorageRouteInput, session: ResumableSession): Promise<StoredObject | undefined> {
  if (session.result) {
    input.request.resume();
    return session.result;
  }
  const range = parseContentRange(readHeader(input, 'content-range'));
  if (range?.kind === 'status') {
    input.request.resume();
    if (range.total !== undefined && range.total === session.received) return finish(context, input, session);
    sendIncomplete(input, session);
    return undefined;
  }
  const first = range?.first ?? 0;
  if (first > session.received) {
    throw new StorageError(400, 'invalid', `Invalid request. The upload offset is ${first} byte(s), which exceeds the ${session.received} byte(s) already uploaded.`);
  }
  await context.storage.uploads.append(session, input.request, session.received - first);
  const total = range?.total;
  if (total !== undefined && session.received > total) {
    throw invalidRequest(`Received ${session.received} bytes, more than the ${total} the Content-Range gives.`);
  }
  const complete = range === undefined || total === session.received || (range.last === undefined && total === undefined);
  if (complete) return finish(context, input, session);
  await context.storage.uploads.keep(session, Math.floor(session.received / chunkGranularity) * chunkGranularity);
  sendIncomplete(input, session);
  return undefined;
}
