import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorOptionsInput } from '../../emulator/emulator-options.ts';
import { DownloadError, GeminiCallError } from '../../lib/errors.ts';
import { callWithRetry, toGeminiCallError } from '../../lib/gemini/call-with-retry.ts';
import { downloadResultFile } from '../../lib/gemini/download-result-file.ts';
import { createSeededRandom } from '../support/gemini-fixture.ts';
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

async function createResultFile(emulator: TestEmulator): Promise<{ fileName: string; plain: Buffer }> {
  const lines = Array.from({ length: 60 }, (_unused, index) => JSON.stringify({ key: `k${index}`, request: { contents: [{ parts: [{ text: `line ${index}` }] }] } }));
  const input = await emulator.client.files.upload({ file: new Blob([lines.join('\n')]), config: { mimeType: 'application/json' } });
  const job = await emulator.client.batches.create({ model: 'gemini-3-flash-preview', src: input.name ?? '' });
  emulator.clock.advance(2000);
  const fileName = (await emulator.client.batches.get({ name: job.name ?? '' })).dest?.fileName ?? '';
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
    ['behind a redirecting, gzip-encoding front end (the default)', {}],
    ['with the front end quirks switched off', { quirks: { redirectDownloads: false, gzipResponses: false } }],
  ] as const)('streams the result file %s, byte for byte', async (label, options) => {
    const emulator = await startEmulator(options);
    const { fileName, plain } = await createResultFile(emulator);
    const destination = destinationFor(label.replace(/\W+/g, '-'));
    const result = await downloadResultFile({ baseUrl: emulator.baseUrl, apiKey: testApiKey, fileName, destination, idleTimeoutMilliseconds: 60_000 });
    expect(result.bytes).toBe(plain.length);
    expect((await readFile(destination)).equals(plain)).toBe(true);
    expect((await emulator.stats())['downloads']).toBe(2);
  });

  it('reports a download cut under gzip as a retryable error, leaves nothing behind, and a retry gets it whole', async () => {
    const emulator = await startEmulator();
    const { fileName, plain } = await createResultFile(emulator);
    await fetch(`${emulator.baseUrl}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ cutDownloads: 1 }) });
    const destination = destinationFor('cut');
    const download = () => downloadResultFile({ baseUrl: emulator.baseUrl, apiKey: testApiKey, fileName, destination, idleTimeoutMilliseconds: 60_000 });
    const error = await download().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DownloadError);
    expect(toGeminiCallError('download', error).isRetryable).toBe(true);
    expect(await readdir(join(workDirectory, 'cut'))).toEqual([]);
    await callWithRetry({ operation: 'download', call: download, policy: { attempts: 3, initialDelayMilliseconds: 1, maxDelayMilliseconds: 1 }, environment: { sleep: async () => undefined, random: createSeededRandom() } });
    expect((await readFile(destination)).equals(plain)).toBe(true);
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
    expect(await readdir(join(workDirectory, 'truncated'))).toEqual([]);
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
