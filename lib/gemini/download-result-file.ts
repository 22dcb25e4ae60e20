import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatCrc32c, readCrc32cHeader, updateCrc32c } from '../crc32c.ts';
import { ChargenError, DownloadError, GeminiCallError } from '../errors.ts';
import { createCounter, createDecoders, createStall, openFollowingRedirects, readErrorText, type Stall } from './open-download-response.ts';
import { computePartCrc32c, partPath, readPartialDownload, removePartialDownload, writePartValidator, type PartialDownload, type PartValidator } from './partial-download.ts';
import type { RoomAnswer } from './result-file-gate.ts';

/** Asks for disk room before a byte is written (the result-file gate); by default there is always room. */
export interface DownloadRoom {
  reserve(options: { bytes: number; directory: string; fileName: string }): Promise<RoomAnswer>;
  /** The attempt ended: whole, or cut with `bytesOnDisk` in its part. */
  end(options: { bytesOnDisk: number }): void;
}

const unlimitedRoom: DownloadRoom = { reserve: async () => ({ kind: 'reserved' }), end: () => undefined };

export interface DownloadOptions {
  baseUrl: string;
  apiKey: string;
  fileName: string;
  destination: string;
  idleTimeoutMilliseconds: number;
  room?: DownloadRoom;
}

/** How one request ended: the file is whole; or go again (from zero after a refused resume, or once room is freed). */
type AttemptOutcome = { kind: 'done'; bytes: number; resumedFrom: number } | { kind: 'restart'; reason: string } | { kind: 'wait'; until: Promise<void> };

/** `bytes S-E/T` of a 206, or `bytes *\/T` of a 416. */
function parseContentRange(header: string | undefined): { start: number | undefined; total: number | undefined } {
  const match = /^bytes (?:(\d+)-\d+|\*)\/(\d+|\*)$/.exec(header?.trim() ?? '');
  if (!match) return { start: undefined, total: undefined };
  return { start: match[1] === undefined ? undefined : Number(match[1]), total: match[2] === '*' || match[2] === undefined ? undefined : Number(match[2]) };
}

function isEncoded(response: IncomingMessage): boolean {
  const coding = (response.headers['content-encoding'] ?? '').trim().toLowerCase();
  return coding !== '' && coding !== 'identity';
}

function describeValidator(response: IncomingMessage, options: { fileName: string; expectedBytes: number | undefined }): PartValidator {
  return {
    fileName: options.fileName,
    expectedBytes: options.expectedBytes ?? null,
    crc32c: readCrc32cHeader(response.headers['x-goog-hash']) ?? null,
    etag: response.headers.etag ?? null,
  };
}

/** Whether a 206 continues the part we have: same start, plain bytes, and the same file (hash, ETag, size). */
function checkContinuation(response: IncomingMessage, partial: PartialDownload): string | undefined {
  const range = parseContentRange(response.headers['content-range']);
  if (range.start !== partial.bytes) return `the server answered from byte ${range.start ?? '?'} for a resume at ${partial.bytes}`;
  if (isEncoded(response)) return 'the server encoded a partial answer';
  const served = describeValidator(response, { fileName: partial.validator.fileName, expectedBytes: range.total });
  const kept = partial.validator;
  if (kept.crc32c !== null && served.crc32c !== null && kept.crc32c !== served.crc32c) return 'the file changed (crc32c)';
  if (kept.etag !== null && served.etag !== null && kept.etag !== served.etag) return 'the file changed (ETag)';
  if (kept.expectedBytes !== null && served.expectedBytes !== null && kept.expectedBytes !== served.expectedBytes) return 'the file changed (size)';
  return undefined;
}

/** A 416 to a resume: the part already holds the whole file when the server's size is the part's. */
async function settleUnsatisfiable(options: DownloadOptions, response: IncomingMessage, partial: PartialDownload | undefined): Promise<AttemptOutcome> {
  response.resume();
  const { total } = parseContentRange(response.headers['content-range']);
  if (partial === undefined || total !== partial.bytes) return { kind: 'restart', reason: 'the server refused the range' };
  await finishFile(options, { validator: partial.validator, bytes: partial.bytes, crc32c: partial.validator.crc32c === null ? undefined : await computePartCrc32c(options.destination) });
  return { kind: 'done', bytes: partial.bytes, resumedFrom: partial.bytes };
}

/** Checks the whole file against what the server said of it, then gives it its name. */
async function finishFile(options: DownloadOptions, file: { validator: PartValidator; bytes: number; crc32c: number | undefined }): Promise<void> {
  const { validator } = file;
  let problem: string | undefined;
  if (validator.expectedBytes !== null && file.bytes !== validator.expectedBytes) problem = `the file has ${file.bytes} of ${validator.expectedBytes} bytes`;
  else if (validator.crc32c !== null && file.crc32c !== undefined && formatCrc32c(file.crc32c) !== validator.crc32c) {
    problem = `crc32c ${formatCrc32c(file.crc32c)} of the bytes received is not the served ${validator.crc32c}`;
  }
  if (problem !== undefined) {
    // Bytes that do not add up are not worth continuing: the next attempt starts over.
    await removePartialDownload(options.destination);
    throw new DownloadError({ fileName: options.fileName, message: problem });
  }
  await rename(partPath(options.destination), options.destination);
  await removePartialDownload(options.destination);
}

/** One request: a resume (Range) when a part is there, else the whole file; its body appended to the part. */
async function attemptDownload(options: DownloadOptions, stall: Stall): Promise<AttemptOutcome> {
  const room = options.room ?? unlimitedRoom;
  const partial = await readPartialDownload(options);
  // Plain bytes asked for: under gzip the size of the file is not known before its last byte (content-length is the
  // encoded size, gzip's own length is in its trailer), so room on disk could not be checked; and a range applies to
  // the bytes as sent, so a gzip encoding made on the fly could not be continued from decoded ones. A front end that
  // encodes anyway is still read (strictly), its content-length then a lower bound of the room needed.
  const headers: Record<string, string> = { 'accept-encoding': 'identity', ...(partial && partial.bytes > 0 ? { range: `bytes=${partial.bytes}-` } : {}) };
  const url = new URL(`${options.baseUrl.replace(/\/+$/, '')}/v1beta/${options.fileName}:download?alt=media`);
  stall.arm();
  const response = await openFollowingRedirects({ url, apiKey: options.apiKey, fileName: options.fileName, stall, headers });
  try {
    return await readAnswer(options, { response, partial, stall, room });
  } catch (error) {
    response.destroy();
    throw error;
  }
}

/** What came back to one request: an error, a refusal of the resume, or bytes for the part. */
async function readAnswer(options: DownloadOptions, attempt: { response: IncomingMessage; partial: PartialDownload | undefined; stall: Stall; room: DownloadRoom }): Promise<AttemptOutcome> {
  const { response, partial, stall, room } = attempt;
  const status = response.statusCode ?? 0;
  if (status === 416) return settleUnsatisfiable(options, response, partial);
  if (status < 200 || status >= 300) {
    const text = await readErrorText({ response, fileName: options.fileName });
    throw new GeminiCallError({ operation: `download ${options.fileName}`, status, message: text || (response.statusMessage ?? ''), isRetryable: status === 429 || status >= 500 });
  }
  const resuming = status === 206 && partial !== undefined;
  if (status === 206 && partial === undefined) return abandon(response, 'a partial answer to a whole request');
  const refusal = resuming ? checkContinuation(response, partial) : undefined;
  if (refusal !== undefined) return abandon(response, refusal);
  const startOffset = resuming ? partial.bytes : 0;
  const declared = Number(response.headers['content-length'] ?? Number.NaN);
  // The decoded size is known only of plain bytes; under gzip, content-length is the encoded size, a lower bound.
  const expectedBytes = isEncoded(response) || !Number.isFinite(declared) ? undefined : resuming ? parseContentRange(response.headers['content-range']).total : declared;
  const answer = await room.reserve({ bytes: Math.max(0, (expectedBytes ?? (Number.isFinite(declared) ? declared : 0)) - startOffset), directory: dirname(options.destination), fileName: options.fileName });
  if (answer.kind === 'wait') {
    response.destroy();
    return answer;
  }
  const validator = resuming ? partial.validator : describeValidator(response, { fileName: options.fileName, expectedBytes });
  if (!resuming) await writePartValidator({ destination: options.destination, validator });
  let crc = validator.crc32c !== null && resuming ? await computePartCrc32c(options.destination) : 0;
  let received = 0;
  let written = 0;
  try {
    const onWire = createCounter((length) => {
      received += length;
      stall.arm();
    });
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        written += chunk.length;
        if (validator.crc32c !== null) crc = updateCrc32c(crc, chunk);
        callback(null, chunk);
      },
    });
    const decoders = createDecoders({ contentEncoding: response.headers['content-encoding'], fileName: options.fileName });
    await pipeline([response, onWire, ...decoders, hashing, createWriteStream(partPath(options.destination), { flags: resuming ? 'a' : 'w' })]);
    // content-length counts what came over the wire, encoded or not; never the decoded bytes.
    if (Number.isFinite(declared) && received !== declared) throw new DownloadError({ fileName: options.fileName, message: `got ${received} of ${declared} bytes` });
  } finally {
    room.end({ bytesOnDisk: startOffset + written });
  }
  await finishFile(options, { validator, bytes: startOffset + written, crc32c: validator.crc32c === null ? undefined : crc });
  return { kind: 'done', bytes: startOffset + written, resumedFrom: startOffset };
}

function abandon(response: IncomingMessage, reason: string): AttemptOutcome {
  response.destroy();
  return { kind: 'restart', reason };
}

/**
 * Streams a generated file (a batch's results) to disk, as a real front end serves it: through a redirect, and
 * gzip-encoded if it chooses (plain bytes are asked for). The SDK's own download pipes without passing on a body error, so a cut connection
 * can leave it waiting forever; and fetch decodes gzip leniently (a truncated stream with whole framing reads as a
 * short, clean body) while keeping `content-length` as the encoded size. So node:http, and checks: the bytes on the
 * wire against `content-length`, the decoded stream by a strict decoder, the whole file against the served
 * `X-Goog-Hash: crc32c=…` (recorded of the real front end) and its size. A cut leaves a `.part` (with a `.part.json`
 * saying whose it is) that the next call continues with `Range: bytes=N-`; a server that ignores the range (200)
 * starts it over, one that refuses it (416) is asked for the whole file. It asks the URL the SDK does
 * (`/v1beta/files/{id}:download?alt=media`).
 */
export async function downloadResultFile(options: DownloadOptions): Promise<{ bytes: number; resumedFrom: number }> {
  await mkdir(dirname(options.destination), { recursive: true });
  const stall = createStall(options);
  let restarts = 0;
  try {
    for (;;) {
      const outcome = await attemptDownload(options, stall);
      if (outcome.kind === 'done') return { bytes: outcome.bytes, resumedFrom: outcome.resumedFrom };
      if (outcome.kind === 'wait') {
        stall.clear();
        await outcome.until;
        continue;
      }
      await removePartialDownload(options.destination);
      restarts += 1;
      if (restarts > 1) throw new DownloadError({ fileName: options.fileName, message: `could not resume (${outcome.reason})` });
    }
  } catch (error) {
    if (error instanceof ChargenError) throw error;
    throw new DownloadError({ fileName: options.fileName, message: error instanceof Error ? error.message : String(error), cause: error });
  } finally {
    stall.clear();
  }
}
