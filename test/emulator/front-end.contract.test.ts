import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acceptsGzip } from '../../emulator/negotiate-gzip.ts';
import { requestRaw } from '../support/request-raw.ts';
import { startTestEmulator, testApiKey, type TestEmulator } from '../support/start-test-emulator.ts';


/** A finished batch's result file, 40 JSONL lines: compressible, as real result files are. */
async function createResultFile(emulator: TestEmulator): Promise<string> {
  const lines = Array.from({ length: 40 }, (_unused, index) => JSON.stringify({ key: `k${index}`, request: { contents: [{ parts: [{ text: `line ${index}` }] }] } }));
  const input = await emulator.client.files.upload({ file: new Blob([lines.join('\n')]), config: { mimeType: 'application/json' } });
  const job = await emulator.client.batches.create({ model: 'gemini-3-flash-preview', src: input.name ?? '' });
  emulator.clock.advance(2000);
  return (await emulator.client.batches.get({ name: job.name ?? '' })).dest?.fileName ?? '';
}

const withKey = { 'x-goog-api-key': testApiKey };
const acceptingGzip = { ...withKey, 'accept-encoding': 'gzip, deflate' };

let workDirectory: string;
beforeAll(async () => {
  workDirectory = await mkdtemp(join(tmpdir(), 'chargen-front-end-test-'));
});
afterAll(async () => rm(workDirectory, { recursive: true, force: true }));

describe('front end, as the real API has it (the default)', () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(async () => emulator.close());
  afterEach(async () => emulator.emulator.reset());

  it("answers the SDK's download URL with 302 Found to /download/…?alt=media on the same host, as recorded", async () => {
    const output = await createResultFile(emulator);
    const answer = await requestRaw(`${emulator.baseUrl}/v1beta/${output}:download?alt=media`, acceptingGzip);
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe(`${emulator.baseUrl}/download/v1beta/${output}:download?alt=media`);
    expect(answer.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(answer.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(answer.body).toString('utf8'))).toEqual({ error: { code: 302, message: 'Unknown Error.', status: 'UNKNOWN' } });
    // The redirect is not the download: nothing is counted until the bytes are asked for.
    expect((await emulator.stats())['downloads']).toBe(0);
  });

  it('asks for the key before redirecting, and never puts a key given as ?key= into the Location', async () => {
    const output = await createResultFile(emulator);
    expect((await requestRaw(`${emulator.baseUrl}/v1beta/${output}:download?alt=media`)).status).toBe(403);
    const answer = await requestRaw(`${emulator.baseUrl}/v1beta/${output}:download?alt=media&key=${testApiKey}`);
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe(`${emulator.baseUrl}/download/v1beta/${output}:download?alt=media`);
  });

  it('serves the bytes at /download/ gzip-encoded, content-length the encoded size, and plain to a client not accepting gzip', async () => {
    const output = await createResultFile(emulator);
    const url = `${emulator.baseUrl}/download/v1beta/${output}:download?alt=media`;
    const encoded = await requestRaw(url, acceptingGzip);
    const plain = await requestRaw(url, withKey);
    const refused = await requestRaw(url, { ...withKey, 'accept-encoding': 'gzip;q=0, identity' });
    expect(encoded.status).toBe(200);
    expect(encoded.headers['content-encoding']).toBe('gzip');
    expect(Number(encoded.headers['content-length'])).toBe(encoded.body.length);
    expect(encoded.headers['content-disposition']).toBe('attachment');
    expect(gunzipSync(encoded.body).equals(plain.body)).toBe(true);
    // What broke a client comparing decoded bytes with content-length: they differ.
    expect(encoded.body.length).toBeLessThan(plain.body.length);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(Number(plain.headers['content-length'])).toBe(plain.body.length);
    expect(refused.headers['content-encoding']).toBeUndefined();
    expect(refused.body.equals(plain.body)).toBe(true);
  });

  it('gzips JSON answers and errors when gzip is accepted, and keeps the admin surface plain', async () => {
    await emulator.client.files.upload({ file: new Blob(['abc']), config: { mimeType: 'text/plain' } });
    const list = await requestRaw(`${emulator.baseUrl}/v1beta/files?pageSize=5`, acceptingGzip);
    expect(list.headers['content-encoding']).toBe('gzip');
    expect(Number(list.headers['content-length'])).toBe(list.body.length);
    expect(JSON.parse(gunzipSync(list.body).toString('utf8'))).toMatchObject({ files: [{ mimeType: 'text/plain' }] });
    const missing = await requestRaw(`${emulator.baseUrl}/v1beta/batches/nope`, acceptingGzip);
    expect(missing.status).toBe(404);
    expect(missing.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(missing.body).toString('utf8'))).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    const plainList = await requestRaw(`${emulator.baseUrl}/v1beta/files?pageSize=5`, withKey);
    expect(plainList.headers['content-encoding']).toBeUndefined();
    const stats = await requestRaw(`${emulator.baseUrl}/_emulator/stats`, { 'accept-encoding': 'gzip' });
    expect(stats.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(stats.body.toString('utf8'))).toMatchObject({ uploads: 1 });
  });

  it("lets the SDK's own files.download through the redirect and gzip to the very bytes", async () => {
    const output = await createResultFile(emulator);
    const path = join(workDirectory, 'sdk-download.jsonl');
    await emulator.client.files.download({ file: output, downloadPath: path });
    const plain = await requestRaw(`${emulator.baseUrl}/download/v1beta/${output}:download?alt=media`, withKey);
    expect((await readFile(path)).equals(plain.body)).toBe(true);
    expect((await readFile(path, 'utf8')).trimEnd().split('\n')).toHaveLength(40);
    expect((await emulator.stats())['downloads']).toBe(2);
  });

  it('puts endpoint faults on the download, not on the redirect', async () => {
    const output = await createResultFile(emulator);
    await fetch(`${emulator.baseUrl}/_emulator/faults`, { method: 'POST', body: JSON.stringify({ endpoints: { 'files.download': { rate429: 1 } } }) });
    expect((await requestRaw(`${emulator.baseUrl}/v1beta/${output}:download?alt=media`, withKey)).status).toBe(302);
    expect((await requestRaw(`${emulator.baseUrl}/download/v1beta/${output}:download?alt=media`, withKey)).status).toBe(429);
  });
});

describe('front end switched off (quirks redirectDownloads and gzipResponses false)', () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator({ quirks: { redirectDownloads: false, gzipResponses: false } });
  });
  afterAll(async () => emulator.close());

  it("serves the bytes at the SDK's URL itself, and everything plain even to a client accepting gzip", async () => {
    const output = await createResultFile(emulator);
    const direct = await requestRaw(`${emulator.baseUrl}/v1beta/${output}:download?alt=media`, acceptingGzip);
    const viaDownloadPath = await requestRaw(`${emulator.baseUrl}/download/v1beta/${output}:download?alt=media`, acceptingGzip);
    expect(direct.status).toBe(200);
    expect(direct.headers['content-encoding']).toBeUndefined();
    expect(Number(direct.headers['content-length'])).toBe(direct.body.length);
    expect(direct.body.equals(viaDownloadPath.body)).toBe(true);
    const list = await requestRaw(`${emulator.baseUrl}/v1beta/files?pageSize=5`, acceptingGzip);
    expect(list.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(list.body.toString('utf8'))).toMatchObject({ files: expect.any(Array) });
  });
});

describe('acceptsGzip', () => {
  it.each([
    ['gzip, deflate', true],
    ['deflate, br', false],
    ['GZIP', true],
    ['x-gzip', true],
    ['gzip;q=0, identity', false],
    ['gzip; q=0.5', true],
    ['*', true],
    ['*;q=0', false],
    ['identity', false],
    ['', false],
  ] as const)('%j → %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });

  it('treats no header as plain only', () => {
    expect(acceptsGzip(undefined)).toBe(false);
  });
});
