import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCrc32c, updateCrc32c } from '../../lib/crc32c.ts';
import { parseRangeHeader } from '../../emulator/routes/download-route.ts';
import { requestRaw } from '../support/request-raw.ts';
import { startTestEmulator, testApiKey, type TestEmulator } from '../support/start-test-emulator.ts';

describe('parseRangeHeader', () => {
  it('reads one byte range, ignores what it does not serve, and says when a range starts past the end', () => {
    expect(parseRangeHeader('bytes=10-', 100)).toEqual({ start: 10, end: 99 });
    expect(parseRangeHeader('bytes=10-19', 100)).toEqual({ start: 10, end: 19 });
    expect(parseRangeHeader('bytes=90-500', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRangeHeader('bytes=-5', 100)).toEqual({ start: 95, end: 99 });
    expect(parseRangeHeader('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRangeHeader('bytes=0-1,5-9', 100)).toBeUndefined();
    expect(parseRangeHeader('items=0-1', 100)).toBeUndefined();
    expect(parseRangeHeader('bytes=9-1', 100)).toBeUndefined();
    expect(parseRangeHeader(undefined, 100)).toBeUndefined();
  });
});

describe('the download front end and Range', () => {
  let emulator: TestEmulator;
  let url = '';
  let whole: Buffer = Buffer.alloc(0);
  beforeAll(async () => {
    emulator = await startTestEmulator();
    const lines = Array.from({ length: 40 }, (_unused, index) => JSON.stringify({ key: `k${index}`, request: { contents: [{ parts: [{ text: `line ${index}` }] }] } }));
    const input = await emulator.client.files.upload({ file: new Blob([lines.join('\n')]), config: { mimeType: 'application/json' } });
    const job = await emulator.client.batches.create({ model: 'gemini-3-flash-preview', src: input.name ?? '' });
    emulator.clock.advance(2000);
    const fileName = (await emulator.client.batches.get({ name: job.name ?? '' })).dest?.fileName ?? '';
    url = `${emulator.baseUrl}/download/v1beta/${fileName}:download?alt=media`;
    whole = (await requestRaw(url, { 'x-goog-api-key': testApiKey })).body;
  });
  afterAll(async () => emulator.close());

  it('serves the whole file with its length and the crc32c of its bytes in X-Goog-Hash', async () => {
    const answer = await requestRaw(url, { 'x-goog-api-key': testApiKey });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-length']).toBe(String(whole.length));
    expect(answer.headers['x-goog-hash']).toBe(`crc32c=${formatCrc32c(updateCrc32c(0, whole))}`);
    expect(answer.headers['content-range']).toBeUndefined();
  });

  it('answers a range with 206, Content-Range and the whole file hash, plain even to a client that takes gzip', async () => {
    const answer = await requestRaw(url, { 'x-goog-api-key': testApiKey, range: 'bytes=100-', 'accept-encoding': 'gzip' });
    expect(answer.status).toBe(206);
    expect(answer.headers['content-range']).toBe(`bytes 100-${whole.length - 1}/${whole.length}`);
    expect(answer.headers['content-length']).toBe(String(whole.length - 100));
    expect(answer.headers['content-encoding']).toBeUndefined();
    expect(answer.headers['x-goog-hash']).toBe(`crc32c=${formatCrc32c(updateCrc32c(0, whole))}`);
    expect(answer.body.equals(whole.subarray(100))).toBe(true);
  });

  it('answers a range past the end with 416 and Content-Range: bytes */size', async () => {
    const answer = await requestRaw(url, { 'x-goog-api-key': testApiKey, range: `bytes=${whole.length}-` });
    expect(answer.status).toBe(416);
    expect(answer.headers['content-range']).toBe(`bytes */${whole.length}`);
    expect(JSON.parse(answer.body.toString('utf8'))).toEqual({ error: { code: 416, message: 'Request range not satisfiable', status: 'OUT_OF_RANGE' } });
  });
});
