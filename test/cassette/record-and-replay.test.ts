import { ApiError, JobState } from '@google/genai';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cassetteSchema, type Cassette } from '../../emulator/cassette/cassette-schema.ts';
import { serveRecordingProxy } from '../../emulator/cassette/serve-recording-proxy.ts';
import { serveReplayServer, type RunningReplayServer } from '../../emulator/cassette/serve-replay-server.ts';
import { downloadResultFile } from '../../lib/gemini/download-result-file.ts';
import { startTestEmulator } from '../support/start-test-emulator.ts';
import { batchModel, createClient, createLargeReferencePng, downloadResults, runBatchSequence, upstreamApiKey, type SequenceResult } from './run-batch-sequence.ts';

const image = createLargeReferencePng();
const uploadStartHeaders = {
  'x-goog-upload-protocol': 'resumable',
  'x-goog-upload-command': 'start',
  'x-goog-upload-header-content-length': '5',
  'x-goog-upload-header-content-type': 'text/plain',
  'content-type': 'application/json',
};
const uploadStartBody = JSON.stringify({ file: { displayName: 'raw-start' } });
const colourRequest = { contents: [{ role: 'user', parts: [{ text: 'Name three colours.' }] }], generationConfig: { temperature: 0, maxOutputTokens: 64 } };
const colourRequestReordered = { generationConfig: { maxOutputTokens: 64, temperature: 0 }, contents: [{ parts: [{ text: 'Name three colours.' }], role: 'user' }] };

let cassetteDirectory: string;
let proxyBaseUrl: string;
let recorded: SequenceResult;
let recordedUploadUrl: string | null;
let recordedColourAnswer: unknown;
let cassette: Cassette;
const replayServers: RunningReplayServer[] = [];

async function startReplay(): Promise<RunningReplayServer> {
  const replay = await serveReplayServer({ cassetteDirectory, port: 0 });
  replayServers.push(replay);
  return replay;
}

async function listFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

beforeAll(async () => {
  cassetteDirectory = await mkdtemp(join(tmpdir(), 'chargen-cassette-test-'));
  // The emulator takes only the upstream key, so every call that succeeds proves the proxy put it there.
  const emulator = await startTestEmulator({ apiKey: upstreamApiKey });
  const proxy = await serveRecordingProxy({ upstreamBaseUrl: emulator.baseUrl, apiKey: upstreamApiKey, cassetteDirectory, fetch, port: 0 });
  proxyBaseUrl = proxy.baseUrl;
  try {
    recorded = await runBatchSequence({ baseUrl: proxy.baseUrl, image, extraPolls: 0, betweenPolls: () => emulator.clock.advance(500) });

    const start = await fetch(`${proxy.baseUrl}/upload/v1beta/files`, { method: 'POST', headers: uploadStartHeaders, body: uploadStartBody });
    recordedUploadUrl = start.headers.get('x-goog-upload-url');

    const colour = await fetch(`${proxy.baseUrl}/v1beta/models/gemini-3-flash-preview:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(colourRequest),
    });
    recordedColourAnswer = await colour.json();

    // The key turns up in a query, an Authorization header and a body: none of it may reach the cassette.
    const uploadedName = (recorded.uploaded as { name: string }).name;
    const keyInQuery = await fetch(`${proxy.baseUrl}/v1beta/${uploadedName}?key=${upstreamApiKey}`, { headers: { authorization: `Bearer ${upstreamApiKey}` } });
    expect(keyInQuery.status).toBe(200);
    const keyInBody = await fetch(`${proxy.baseUrl}/v1beta/models/gemini-3-flash-preview:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': upstreamApiKey },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: `Repeat after me: ${upstreamApiKey}` }] }] }),
    });
    expect(keyInBody.status).toBe(200);
  } finally {
    await proxy.close();
    await emulator.close();
  }
  cassette = cassetteSchema.parse(JSON.parse(await readFile(join(cassetteDirectory, 'cassette.json'), 'utf8')));
});

afterEach(async () => {
  await Promise.all(replayServers.splice(0).map((server) => server.close()));
});

afterAll(async () => {
  await rm(cassetteDirectory, { recursive: true, force: true });
});

describe('recording through the proxy', () => {
  it('runs the whole sequence against the upstream with the proxy’s key, whatever key the client sent', () => {
    expect(recorded.states[0]).toBe(JobState.JOB_STATE_PENDING);
    expect(recorded.states).toContain(JobState.JOB_STATE_RUNNING);
    expect(recorded.states.at(-1)).toBe(JobState.JOB_STATE_SUCCEEDED);
    const lines = recorded.results.toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { key: string; response?: unknown });
    expect(lines.map((line) => line.key)).toEqual(['portrait', 'sketch']);
    expect(lines.every((line) => line.response !== undefined)).toBe(true);
  });

  it('writes every interaction in order, as a versioned cassette', () => {
    expect(cassette.version).toBe(1);
    const calls = cassette.interactions.map(({ request }) => `${request.method} ${request.url.split('?')[0] ?? ''}`);
    const createdName = (recorded.created as { name: string }).name;
    expect(calls.slice(0, 7)).toEqual([
      'POST /upload/v1beta/files',
      'POST /upload/v1beta/files',
      `GET /v1beta/${(recorded.uploaded as { name: string }).name}`,
      'POST /upload/v1beta/files',
      'POST /upload/v1beta/files',
      `POST /v1beta/models/${batchModel}:batchGenerateContent`,
      `GET /v1beta/${createdName}`,
    ]);
    expect(calls.filter((call) => call === `GET /v1beta/${createdName}`)).toHaveLength(recorded.states.length);
    const downloadAt = calls.indexOf(`GET /v1beta/${recorded.resultsFile}:download`);
    expect(calls[downloadAt + 1]).toBe(`GET /download/v1beta/${recorded.resultsFile}:download`);
    expect(cassette.interactions.filter(({ response }) => response.status !== 200).map(({ response }) => response.status)).toEqual([302]);
  });

  it('relays the download’s 302 onto the proxy, records it against the placeholder, and records bodies decoded', () => {
    const redirect = cassette.interactions.find(({ response }) => response.status === 302);
    expect(redirect?.request.url).toBe(`/v1beta/${recorded.resultsFile}:download?alt=media`);
    expect(redirect?.response.headers['location']).toBe(`{baseUrl}/download/v1beta/${recorded.resultsFile}:download?alt=media`);
    expect(redirect?.response.body).toEqual({ encoding: 'json', json: { error: { code: 302, message: 'Unknown Error.', status: 'UNKNOWN' } } });
    // The emulator gzip-encodes every answer to the proxy's fetch; the cassette keeps what it meant.
    expect(cassette.interactions.some(({ response }) => 'content-encoding' in response.headers)).toBe(false);
    const created = cassette.interactions[5];
    expect(created?.response.body).toMatchObject({ encoding: 'json' });
  });

  it('stores large bodies beside the cassette by their sha256, and small JSON inline', async () => {
    const chunk = cassette.interactions[1]?.request;
    expect(chunk?.body).toMatchObject({ encoding: 'file', bytes: image.length });
    const download = cassette.interactions.find(({ request }) => request.url.startsWith('/download/'));
    expect(download?.response.body).toMatchObject({ encoding: 'file', bytes: recorded.results.length });
    const created = cassette.interactions[5];
    expect(created?.request.body).toMatchObject({ encoding: 'json', json: { batch: { displayName: 'cassette-batch' } } });
    expect(created?.response.body).toMatchObject({ encoding: 'json', json: { metadata: { state: 'BATCH_STATE_PENDING' } } });
    for (const path of await listFiles(join(cassetteDirectory, 'bodies'))) {
      const name = path.split('/').at(-1);
      expect(createHash('sha256').update(await readFile(path)).digest('hex')).toBe(name);
    }
  });

  it('rewrites upload URLs to the proxy for the client and to a placeholder in the cassette', () => {
    expect(recordedUploadUrl).toMatch(new RegExp(`^${proxyBaseUrl}/upload/v1beta/files\\?upload_id=[^&]+&upload_protocol=resumable$`));
    const start = cassette.interactions[0]?.response.headers;
    expect(start?.['x-goog-upload-url']).toMatch(/^\{baseUrl\}\/upload\/v1beta\/files\?upload_id=/);
    expect(start?.['x-goog-upload-status']).toBe('active');
  });

  it('writes the API key in no file under the cassette folder', async () => {
    const files = await listFiles(cassetteDirectory);
    expect(files.length).toBeGreaterThan(2);
    for (const path of files) expect((await readFile(path)).includes(upstreamApiKey), path).toBe(false);
    const keyInQuery = cassette.interactions.find(({ request }) => request.url.includes('key='));
    expect(keyInQuery?.request.url).toMatch(/\?key=REDACTED$/);
    expect(keyInQuery?.request.headers['authorization']).toBe('REDACTED');
    const keyInBody = cassette.interactions.find(({ request }) => JSON.stringify(request.body).includes('Repeat after me'));
    expect(JSON.stringify(keyInBody?.request.body)).toContain('Repeat after me: REDACTED');
    expect(keyInBody?.request.headers['x-goog-api-key']).toBe('REDACTED');
  });
});

describe('replaying the cassette', () => {
  it('answers the same sequence with the same results, however often the client polls', async () => {
    const replay = await startReplay();
    const replayed = await runBatchSequence({ baseUrl: replay.baseUrl, image, extraPolls: 3 });
    expect(replay.misses()).toEqual([]);
    const { states, results, ...rest } = replayed;
    const { states: recordedStates, results: recordedResults, ...recordedRest } = recorded;
    expect(rest).toEqual(recordedRest);
    // Buffer.equals: a deep toEqual walks the 280 KB byte by byte.
    expect(results.equals(recordedResults)).toBe(true);
    expect(states).toEqual([...recordedStates, JobState.JOB_STATE_SUCCEEDED, JobState.JOB_STATE_SUCCEEDED, JobState.JOB_STATE_SUCCEEDED]);
  });

  it('answers each kind of request on its own: a client that polls less still gets the results', async () => {
    const replay = await startReplay();
    const client = createClient({ baseUrl: replay.baseUrl });
    const job = await client.batches.get({ name: (recorded.created as { name: string }).name });
    expect(job.state).toBe(JobState.JOB_STATE_PENDING);
    const results = await downloadResults({ baseUrl: replay.baseUrl, fileName: recorded.resultsFile });
    expect(results.equals(recorded.results)).toBe(true);
    expect(replay.misses()).toEqual([]);
  });

  it('replays the download’s redirect onto its own base URL, for chargen’s download as for the SDK’s', async () => {
    const replay = await startReplay();
    const redirect = await fetch(`${replay.baseUrl}/v1beta/${recorded.resultsFile}:download?alt=media`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe(`${replay.baseUrl}/download/v1beta/${recorded.resultsFile}:download?alt=media`);
    const directory = await mkdtemp(join(tmpdir(), 'chargen-replayed-download-'));
    const destination = join(directory, 'results.jsonl');
    try {
      await downloadResultFile({ baseUrl: replay.baseUrl, apiKey: 'any-key', fileName: recorded.resultsFile, destination, idleTimeoutMilliseconds: 60_000 });
      expect((await readFile(destination)).equals(recorded.results)).toBe(true);
      await createClient({ baseUrl: replay.baseUrl }).files.download({ file: recorded.resultsFile, downloadPath: destination });
      expect((await readFile(destination)).equals(recorded.results)).toBe(true);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
    expect(replay.misses()).toEqual([]);
  });

  it('hands out upload URLs on its own base URL', async () => {
    const replay = await startReplay();
    const start = await fetch(`${replay.baseUrl}/upload/v1beta/files`, { method: 'POST', headers: uploadStartHeaders, body: uploadStartBody });
    const uploadUrl = start.headers.get('x-goog-upload-url') ?? '';
    expect(uploadUrl.startsWith(`${replay.baseUrl}/upload/v1beta/files?upload_id=`)).toBe(true);
    expect(uploadUrl.slice(replay.baseUrl.length)).toBe(recordedUploadUrl?.slice(proxyBaseUrl.length));
  });

  it('matches JSON bodies whatever their key order, and ignores the client’s key', async () => {
    const replay = await startReplay();
    const answer = await fetch(`${replay.baseUrl}/v1beta/models/gemini-3-flash-preview:generateContent?key=some-other-key`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(colourRequestReordered),
    });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual(recordedColourAnswer);
    expect(replay.misses()).toEqual([]);
  });

  it('answers 501 to a request the cassette lacks, naming it and the nearest recorded one, and lists it in misses()', async () => {
    const replay = await startReplay();
    const client = createClient({ baseUrl: replay.baseUrl });
    const unknownFile = await client.files.get({ name: 'files/notrecorded' }).then(() => undefined, (error: unknown) => error);
    expect(unknownFile).toBeInstanceOf(ApiError);
    expect((unknownFile as ApiError).status).toBe(501);
    expect((unknownFile as ApiError).message).toContain('GET /v1beta/files/notrecorded body sha256:');
    expect((unknownFile as ApiError).message).toContain('nothing was recorded on that path');

    const inputName = (recorded.input as { name: string }).name;
    const otherBatch = await client.batches
      .create({ model: batchModel, src: inputName, config: { displayName: 'a-name-never-recorded' } })
      .then(() => undefined, (error: unknown) => error);
    expect((otherBatch as ApiError).status).toBe(501);

    const misses = replay.misses();
    expect(misses.map((miss) => `${miss.method} ${miss.url}`)).toEqual([
      'GET /v1beta/files/notrecorded',
      `POST /v1beta/models/${batchModel}:batchGenerateContent`,
    ]);
    expect(misses[0]?.nearest).toBeUndefined();
    const recordedCreate = cassette.interactions[5]?.request;
    expect(misses[1]?.nearest).toBe(`POST ${recordedCreate?.url ?? ''} body ${recordedCreate?.bodyHash ?? ''}`);
    expect(misses[1]?.bodyHash).not.toBe(recordedCreate?.bodyHash);
    expect(misses[1]?.message).toContain(misses[1]?.bodyHash ?? 'missing');
    expect(misses[1]?.message).toContain(join(cassetteDirectory, 'cassette.json'));
  });
});
