import { request as sendRequest, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRecordedExchange, recordedJson } from './recorded-fixtures.ts';
import { answerFrom, routeFrom, serveRecordedReplay, type RecordedReplay } from './serve-recorded-replay.ts';

let replay: RecordedReplay | undefined;
afterEach(async () => {
  await replay?.close();
  replay = undefined;
});

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ response: IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = sendRequest(url, { method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ response, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

describe('the replay server for recorded shapes', () => {
  it('gzips a JSON answer the front end gzipped, chunked, to a client that accepts gzip, and sends it plain to one that does not', async () => {
    const exchange = loadRecordedExchange('models-get-gemini-3-pro-image.json');
    replay = await serveRecordedReplay({ routes: [routeFrom(exchange)] });
    const url = `${replay.baseUrl}${exchange.request.target}`;
    const encoded = await get(url, { 'accept-encoding': 'gzip, deflate' });
    expect(encoded.response.headers['content-encoding']).toBe('gzip');
    expect(encoded.response.headers['content-length']).toBeUndefined();
    expect(encoded.response.headers['transfer-encoding']).toBe('chunked');
    const text = gunzipSync(encoded.body).toString('utf8');
    // Pretty-printed with two spaces and a final newline, as go-vcr kept Google's answers.
    expect(text).toBe(`${JSON.stringify(recordedJson(exchange), null, 2)}\n`);
    const plain = await get(url);
    expect(plain.response.headers['content-encoding']).toBeUndefined();
    expect(plain.response.headers['content-length']).toBe(String(plain.body.length));
    expect(plain.body.toString('utf8')).toBe(text);
  });

  it('sends an upload answer plain even to a client accepting gzip, and moves handed-out URLs onto itself', async () => {
    const start = loadRecordedExchange('files-crud.json', 'start');
    const redirect = loadRecordedExchange('files-download.json', 'redirect');
    replay = await serveRecordedReplay({ routes: [routeFrom(start), routeFrom(redirect)] });
    const started = await get(`${replay.baseUrl}/upload/v1beta/files`, { 'accept-encoding': 'gzip' }, 'POST');
    expect(started.response.headers['content-encoding']).toBeUndefined();
    expect(started.response.headers['x-goog-upload-url']).toBe(`${replay.baseUrl}${loadRecordedExchange('files-crud.json', 'finalize').request.target}`);
    const moved = await get(`${replay.baseUrl}${redirect.request.target}`, { 'accept-encoding': 'gzip' });
    expect(moved.response.statusCode).toBe(302);
    expect(moved.response.headers.location).toBe(`${replay.baseUrl}/download/v1beta/files/pgnh4ygqa90n:download?alt=media`);
    expect(JSON.parse(gunzipSync(moved.body).toString('utf8'))).toEqual(recordedJson(redirect));
  });

  it('gives a route\'s answers in order, repeats the last, matches any key, and answers 501 to what it lacks', async () => {
    const running = loadRecordedExchange('batch-operations.json', 'get running');
    const succeeded = loadRecordedExchange('batch-operations.json', 'get succeeded');
    replay = await serveRecordedReplay({ routes: [{ method: 'GET', target: running.request.target, answers: [answerFrom(running), answerFrom(succeeded)] }] });
    const states: string[] = [];
    for (let poll = 0; poll < 3; poll += 1) {
      const { body } = await get(`${replay.baseUrl}${running.request.target}?key=poll-${poll}`);
      states.push((JSON.parse(body.toString('utf8')) as { metadata: { state: string } }).metadata.state);
    }
    expect(states).toEqual(['BATCH_STATE_RUNNING', 'BATCH_STATE_SUCCEEDED', 'BATCH_STATE_SUCCEEDED']);
    const missing = await get(`${replay.baseUrl}/v1beta/batches/other`);
    expect(missing.response.statusCode).toBe(501);
    expect(replay.misses()).toEqual(['no recorded answer for GET /v1beta/batches/other']);
    expect(replay.requests()).toHaveLength(4);
  });
});
