import { createServer, request as sendHttpRequest, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorOptionsInput } from '../../emulator/emulator-options.ts';
import { formatCrc32c, updateCrc32c } from '../../lib/crc32c.ts';
import { DownloadError, GeminiCallError } from '../../lib/errors.ts';
import { toGeminiCallError } from '../../lib/gemini/call-with-retry.ts';
import { downloadResultFile } from '../../lib/gemini/download-result-file.ts';
import { requestRaw } from '../support/request-raw.ts';
import { startTestEmulator, testApiKey, type TestEmulator } from '../support/start-test-emulator.ts';


/** A front end of the test's own in front of (or instead of) the emulator, for what the emulator does not do. */
async function serveFrontEnd(listener: RequestListener): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface ObservedRequest {
  url: string;
  range: string | undefined;
  /** As the client asked, before a `forceGzip` proxy changed it. */
  acceptEncoding: string | undefined;
  status: number;
  contentEncoding: string | undefined;
}

/**
 * Forwards every request to the emulator as it came (Range and Accept-Encoding included) and the answer back as it
 * went, streamed, so a cut stays a cut; records what was asked and answered. `stripRange` plays a server that ignores
 * Range, `hash` one that serves another X-Goog-Hash, `forceGzip` one that gzip-encodes whatever the client asked.
 */
async function serveObservingProxy(emulator: TestEmulator, options: { stripRange?: boolean; hash?: string; forceGzip?: boolean } = {}): Promise<{ baseUrl: string; requests: ObservedRequest[] }> {
  const requests: ObservedRequest[] = [];
  let baseUrl = '';
  const proxy = await serveFrontEnd((request, response) => {
    const headers = { ...request.headers, host: new URL(emulator.baseUrl).host };
    if (options.stripRange) delete headers.range;
    const observed: ObservedRequest = { url: request.url ?? '/', range: headers.range, acceptEncoding: headers['accept-encoding'], status: 0, contentEncoding: undefined };
    if (options.forceGzip) headers['accept-encoding'] = 'gzip';
    requests.push(observed);
    const forwarded = sendHttpRequest(`${emulator.baseUrl}${request.url ?? '/'}`, { headers }, (answer) => {
      observed.status = answer.statusCode ?? 0;
      observed.contentEncoding = answer.headers['content-encoding'];
      const answerHeaders = { ...answer.headers };
      if (typeof answerHeaders.location === 'string') answerHeaders.location = answerHeaders.location.replace(emulator.baseUrl, baseUrl);
      if (options.hash && answerHeaders['x-goog-hash']) answerHeaders['x-goog-hash'] = options.hash;
      response.writeHead(observed.status, answerHeaders);
      answer.pipe(response);
      answer.once('error', () => response.destroy());
      answer.once('aborted', () => response.destroy());
    });
    forwarded.once('error', () => response.destroy());
    forwarded.end();
  });
  baseUrl = proxy.baseUrl;
  closers.push(() => proxy.close());
  return { baseUrl, requests };
}

async function createResultFile(emulator: TestEmulator, lineCount = 60): Promise<{ fileName: string; plain: Buffer }> {
  const lines = Array.from({ length: lineCount }, (_unused, index) => JSON.stringify({ key: `k${index}`, request: { contents: [{ parts: [{ text: `line ${index}` }] }] } }));
  const input = await emulator.client.files.upload({ file: new Blob([lines.join('\n')]), config: { mimeType: 'application/json' } });
  const job = await emulator.client.batches.create({ model: 'gemini-3-flash-preview', src: input.name ?? '' });
  emulator.clock.advance(2000);
  // A large job may still be answering its lines when its time is up: each get waits a bounded time on the emulator's
  // side (a loaded machine needed more than one), so ask until its result file is published.
  let fileName = '';
  for (let attempt = 0; fileName === '' && attempt < 100; attempt += 1) fileName = (await emulator.client.batches.get({ name: job.name ?? '' })).dest?.fileName ?? '';
  expect(fileName).not.toBe('');
  const plain = await requestRaw(`${emulator.baseUrl}/download/v1beta/${fileName}:download?alt=media`, { 'x-goog-api-key': testApiKey });
  return { fileName, plain: plain.body };
}

let workDirectory: string;
beforeAll(async () => {
  workDirectory = await mkdtemp(join(tmpdir(), 'chargen-download-test-'));
});
afterAll(async () => rm(workDirectory, { recursive: true, force: true }));

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function startEmulator(options: EmulatorOptionsInput = {}): Promise<TestEmulator> {
  const emulator = await startTestEmulator(options);
  closers.push(() => emulator.close());
  return emulator;
}

function destinationFor(name: string): string {
  return join(workDirectory, name, 'results.jsonl');
}

describe('downloadResultFile', () => {
  it.each([
    ['behind the redirecting front end, asking plain bytes', {}, false],
    ['behind a front end that gzip-encodes whatever was asked', {}, true],
    ['with the front end quirks switched off', { quirks: { redirectDownloads: false, gzipResponses: false } }, false],
  ] as const)('streams the result file %s, byte for byte', async (label, options, forceGzip) => {
    const emulator = await startEmulator(options);
    const { fileName, plain } = await createResultFile(emulator);
    const seen = await serveObservingProxy(emulator, { forceGzip });
    const destination = destinationFor(label.replace(/\W+/g, '-'));
    const result = await downloadResultFile({ baseUrl: seen.baseUrl, apiKey: testApiKey, fileName, destination, idleTimeoutMilliseconds: 60_000 });
    expect(result.bytes).toBe(plain.length);
    expect((await readFile(destination)).equals(plain)).toBe(true);
    expect((await emulator.stats())['downloads']).toBe(2);
    const last = seen.requests.at(-1)!;
    expect([last.acceptEncoding, last.contentEncoding]).toEqual(['identity', forceGzip ? 'gzip' : undefined]);
  });

  it('resumes a download cut under gzip with a Range from its .part, and the file comes whole', async () => {
    const emulator = await startEmulator();
    // Large enough that the half sent before the cut has been decoded and written in part.
    const { fileName, plain } = await createResultFile(emulator, 3000);
    const seen = await serveObservingProxy(emulator, { forceGzip: true });
    await fetch(`${emulator.baseUrl}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ cutDownloads: 1 }) });
    const destination = destinationFor('cut');
    const download = () => downloadResultFile({ baseUrl: seen.baseUrl, apiKey: testApiKey, fileName, destination, idleTimeoutMilliseconds: 60_000 });
    const error = await download().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DownloadError);
    expect(toGeminiCallError('download', error).isRetryable).toBe(true);
    expect((await readdir(join(workDirectory, 'cut'))).sort()).toEqual(['results.jsonl.part', 'results.jsonl.part.json']);
    const kept = (await readFile(`${destination}.part`)).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(plain.length);
    const result = await download();
    expect(result).toEqual({ bytes: plain.length, resumedFrom: kept });
    expect((await readFile(destination)).equals(plain)).toBe(true);
    expect(await readdir(join(workDirectory, 'cut'))).toEqual(['results.jsonl']);
    const downloads = seen.requests.filter((request) => request.url.startsWith('/download/'));
    expect(downloads.map((request) => [request.range, request.status, request.contentEncoding])).toEqual([
      [undefined, 200, 'gzip'],
      [`bytes=${kept}-`, 206, undefined],
    ]);
  });

  it('starts over when the server ignores the Range (200), and on a 416 asks for the whole file', async () => {
    const emulator = await startEmulator();
    const { fileName, plain } = await createResultFile(emulator);
    const stripping = await serveObservingProxy(emulator, { stripRange: true });
    const destination = destinationFor('ignored');
    await mkdir(join(workDirectory, 'ignored'), { recursive: true });
    await writeFile(`${destination}.part`, plain.subarray(0, 100));
    await writeFile(`${destination}.part.json`, JSON.stringify({ fileName, expectedBytes: plain.length, crc32c: null, etag: null }));
    const ignored = await downloadResultFile({ baseUrl: stripping.baseUrl, apiKey: testApiKey, fileName, destination, idleTimeoutMilliseconds: 60_000 });
    expect(ignored).toEqual({ bytes: plain.length, resumedFrom: 0 });
    expect((await readFile(destination)).equals(plain)).toBe(true);

    // A part as long as the file, say from a run killed before the rename: the 416 says the part is whole.
    await rm(destination);
    await writeFile(`${destination}.part`, plain);
    await writeFile(`${destination}.part.json`, JSON.stringify({ fileName, expectedBytes: plain.length, crc32c: null, etag: null }));
    const whole = await downloadResultFile({ baseUrl: emulator.baseUrl, apiKey: testApiKey, fileName, destination, idleTimeoutMilliseconds: 60_000 });
    expect(whole).toEqual({ bytes: plain.length, resumedFrom: plain.length });
    expect((await readFile(destination)).equals(plain)).toBe(true);

    // A part longer than the file it claims (another file's bytes): never continued, asked again from the start.
    await rm(destination);
    await writeFile(`${destination}.part`, Buffer.concat([plain, plain]));
    await writeFile(`${destination}.part.json`, JSON.stringify({ fileName, expectedBytes: null, crc32c: null, etag: null }));
    const seen = await serveObservingProxy(emulator);
    const again = await downloadResultFile({ baseUrl: seen.baseUrl, apiKey: testApiKey, fileName, destination, idleTimeoutMilliseconds: 60_000 });
    expect(again).toEqual({ bytes: plain.length, resumedFrom: 0 });
    expect((await readFile(destination)).equals(plain)).toBe(true);
    expect(seen.requests.filter((request) => request.url.startsWith('/download/')).map((request) => [request.range, request.status])).toEqual([
      [`bytes=${plain.length * 2}-`, 416],
      [undefined, 200],
    ]);
    expect(await readdir(join(workDirectory, 'ignored'))).toEqual(['results.jsonl']);
  });

  it('checks the file against the served X-Goog-Hash crc32c, and drops bytes that do not match', async () => {
    const emulator = await startEmulator();
    const { fileName, plain } = await createResultFile(emulator);
    const served = await requestRaw(`${emulator.baseUrl}/download/v1beta/${fileName}:download?alt=media`, { 'x-goog-api-key': testApiKey });
    expect(served.headers['x-goog-hash']).toBe(`crc32c=${formatCrc32c(updateCrc32c(0, plain))}`);
    const lying = await serveObservingProxy(emulator, { hash: 'crc32c=AAAAAA==' });
    const destination = destinationFor('hash');
    const error = await downloadResultFile({ baseUrl: lying.baseUrl, apiKey: testApiKey, fileName, destination, idleTimeoutMilliseconds: 60_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toContain(`crc32c ${formatCrc32c(updateCrc32c(0, plain))} of the bytes received is not the served AAAAAA==`);
    expect(toGeminiCallError('download', error).isRetryable).toBe(true);
    expect(await readdir(join(workDirectory, 'hash'))).toEqual([]);
  });

  it('catches a truncated gzip stream in whole framing, which fetch reads as a clean short body', async () => {
    // The test's front end answers the SDK's URL itself, so the emulator need not redirect.
    const emulator = await startEmulator({ quirks: { redirectDownloads: false } });
    const { fileName, plain } = await createResultFile(emulator);
    // A front end that ends its answer cleanly after half of the encoded body (content-length says half).
    const frontEnd = await serveFrontEnd((request, response) => {
      void requestRaw(`${emulator.baseUrl}${request.url ?? '/'}`, { 'x-goog-api-key': testApiKey, 'accept-encoding': 'gzip' }).then((answer) => {
        const half = answer.body.subarray(0, Math.floor(answer.body.length / 2));
        response.writeHead(answer.status, { ...answer.headers, 'content-length': String(half.length) });
        response.end(half);
      });
    });
    closers.push(() => frontEnd.close());
    const url = `${frontEnd.baseUrl}/download/v1beta/${fileName}:download?alt=media`;
    const lenient = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(lenient.length).toBeLessThan(plain.length);
    const error = await downloadResultFile({ baseUrl: frontEnd.baseUrl, apiKey: testApiKey, fileName, destination: destinationFor('truncated'), idleTimeoutMilliseconds: 60_000 }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toMatch(/unexpected end of file/);
    expect(toGeminiCallError('download', error).isRetryable).toBe(true);
    // What was decoded before the cut stays, to be continued by the next attempt.
    expect((await readdir(join(workDirectory, 'truncated'))).sort()).toEqual(['results.jsonl.part', 'results.jsonl.part.json']);
  });

  it('follows a redirect to another origin without the key, and never names the key in an error', async () => {
    const emulator = await startEmulator({ apiKey: testApiKey });
    const { fileName, plain } = await createResultFile(emulator);
    const keysSeenElsewhere: (string | undefined)[] = [];
    const elsewhere = await serveFrontEnd((request, response) => {
      keysSeenElsewhere.push(request.headers['x-goog-api-key'] as string | undefined);
      void requestRaw(`${emulator.baseUrl}${request.url ?? '/'}`, { 'x-goog-api-key': testApiKey, 'accept-encoding': 'gzip' }).then((answer) => {
        response.writeHead(answer.status, answer.headers);
        response.end(answer.body);
      });
    });
    const redirecting = await serveFrontEnd((request, response) => {
      response.writeHead(302, { location: `${elsewhere.baseUrl}/download${request.url ?? '/'}` });
      response.end();
    });
    closers.push(() => elsewhere.close(), () => redirecting.close());
    const destination = destinationFor('elsewhere');
    await downloadResultFile({ baseUrl: redirecting.baseUrl, apiKey: testApiKey, fileName, destination, idleTimeoutMilliseconds: 60_000 });
    expect((await readFile(destination)).equals(plain)).toBe(true);
    expect(keysSeenElsewhere).toEqual([undefined]);

    const wrongKey = 'wrong-key-that-must-stay-secret';
    const error = await downloadResultFile({ baseUrl: emulator.baseUrl, apiKey: wrongKey, fileName, destination, idleTimeoutMilliseconds: 60_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GeminiCallError);
    expect((error as GeminiCallError).status).toBe(400);
    expect((error as Error).message).toContain('API_KEY_INVALID');
    expect((error as Error).message).not.toContain(wrongKey);
  });

  it('gives up on a body that stops coming, after the idle timeout', async () => {
    // Headers and a first chunk, then nothing: only the idle timeout can end this download.
    const stalled = await serveFrontEnd((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/jsonl', 'content-length': '1000' });
      response.write('{"key":"k0"');
    });
    closers.push(() => stalled.close());
    const error = await downloadResultFile({ baseUrl: stalled.baseUrl, apiKey: testApiKey, fileName: 'files/batch-stalled', destination: destinationFor('stalled'), idleTimeoutMilliseconds: 50 }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toMatch(/no data for 50 ms/);
    expect(toGeminiCallError('download', error).isRetryable).toBe(true);
  });
});
