import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { DownloadError } from '../errors.ts';
import { GeminiCallError } from '../errors.ts';

/**
 * Streams a generated file (a batch's results) to disk. The SDK's own download pipes without passing on a body
 * error, so a cut connection can leave it waiting forever; here a cut body, a short body or a stall is an error
 * that the caller retries. It asks the same URL the SDK does (`/v1beta/files/{id}:download?alt=media`).
 */
export async function downloadResultFile(options: {
  fetch: typeof globalThis.fetch;
  baseUrl: string;
  apiKey: string;
  fileName: string;
  destination: string;
  idleTimeoutMilliseconds: number;
}): Promise<{ bytes: number }> {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/v1beta/${options.fileName}:download?alt=media`;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const armTimer = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no data for ${options.idleTimeoutMilliseconds} ms`)), options.idleTimeoutMilliseconds);
  };
  const partial = `${options.destination}.part`;
  await mkdir(dirname(options.destination), { recursive: true });
  try {
    armTimer();
    const response = await options.fetch(url, { headers: { 'x-goog-api-key': options.apiKey }, signal: controller.signal });
    if (!response.ok || !response.body) {
      const text = await response.text().catch(() => '');
      throw new GeminiCallError({
        operation: `download ${options.fileName}`,
        status: response.status,
        message: text.slice(0, 500) || response.statusText,
        isRetryable: response.status === 429 || response.status >= 500,
      });
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        armTimer();
        callback(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), counter, createWriteStream(partial));
    if (Number.isFinite(declared) && bytes !== declared) {
      throw new DownloadError({ fileName: options.fileName, message: `got ${bytes} of ${declared} bytes` });
    }
    await rename(partial, options.destination);
    return { bytes };
  } catch (error) {
    await rm(partial, { force: true });
    if (error instanceof GeminiCallError || error instanceof DownloadError) throw error;
    throw new DownloadError({ fileName: options.fileName, message: error instanceof Error ? error.message : String(error), cause: error });
  } finally {
    clearTimeout(timer);
  }
}
