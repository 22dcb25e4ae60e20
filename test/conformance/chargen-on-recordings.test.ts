import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GoogleGenAI } from '@google/genai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBatchExecutor } from '../../lib/gemini/batch-executor.ts';
import { checkServedModels, ModelNotServedError } from '../../lib/gemini/check-models.ts';
import { createGeminiClient } from '../../lib/gemini/create-gemini-client.ts';
import { geminiSettingsSchema } from '../../schemas/gemini-settings.ts';
import { readResultLines, type ResultLine } from '../../lib/gemini/read-result-lines.ts';
import { createStreamingResultReader } from '../../lib/gemini/stream-result-lines.ts';
import { createSyncExecutor } from '../../lib/gemini/sync-executor.ts';
import { uploadFiles } from '../../lib/gemini/upload-files.ts';
import { openUploadRegistry } from '../../lib/gemini/upload-registry.ts';
import { cleanWorkspaceFiles, listWorkspaceJobs } from '../../lib/gemini/workspace-jobs.ts';
import { createMemoryLogger } from '../../lib/logger.ts';
import { chooseImage } from '../../stages/synthesize/core/choose-image.ts';
import { storeInlineData } from '../../stages/synthesize/store-inline-data.ts';
import { createSeededRandom } from '../support/gemini-fixture.ts';
import { loadRecordedAnswer, loadRecordedExchange, loadRecordedLines, recordedJson, substituteText } from './recorded-fixtures.ts';
import {
  makeRecordedSizeSignature,
  recordedBatchRoutes,
  recordedImageResultLines,
  recordedJobName,
  recordedResultsFile,
  recordedSignatureCharacters,
  recordedTextResultLines,
  recordedUploadName,
  recordedUploadText,
  toResultFile,
  toResultLine,
} from './recorded-scenarios.ts';
import { answerFrom, routeFrom, serveRecordedReplay, type RecordedReplay, type ReplayRoute } from './serve-recorded-replay.ts';

/**
 * chargen's own client code (the real @google/genai SDK over HTTP, and chargen's downloader and readers) against
 * answers shaped as recorded from the real API (test/fixtures/recorded): what chargen makes of each.
 */

const apiKey = 'test-key-not-a-secret';
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

let folder = '';
let replay: RecordedReplay | undefined;
let sleeps: number[] = [];
const environment = {
  sleep: async (milliseconds: number) => {
    sleeps.push(milliseconds);
  },
  random: createSeededRandom(),
  now: () => Date.parse('2026-08-20T20:08:00Z'),
};
const retry = { policy: { attempts: 3, initialDelayMilliseconds: 10, maxDelayMilliseconds: 100 }, environment };

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'chargen-conformance-'));
  sleeps = [];
});
afterEach(async () => {
  if (replay) expect(replay.misses()).toEqual([]);
  await replay?.close();
  replay = undefined;
  await rm(folder, { recursive: true, force: true });
});

async function replayRoutes(routes: ReplayRoute[]): Promise<{ client: GoogleGenAI; baseUrl: string }> {
  replay = await serveRecordedReplay({ routes });
  return { client: createGeminiClient({ apiKey, baseUrl: replay.baseUrl }), baseUrl: replay.baseUrl };
}

function partsOf(response: Record<string, unknown> | undefined): Record<string, unknown>[] {
  const candidates = (response?.['candidates'] ?? []) as { content?: { parts?: Record<string, unknown>[] } }[];
  return candidates[0]?.content?.parts ?? [];
}

describe('the Files API, as recorded (maruel/genai FileCRUD.yaml)', () => {
  it('uploadFiles goes through the resumable start and finalize and keeps the File the finalize answered', async () => {
    const start = loadRecordedExchange('files-crud.json', 'start');
    const finalize = loadRecordedExchange('files-crud.json', 'finalize');
    const { client } = await replayRoutes([routeFrom(start), routeFrom(finalize, { method: 'POST' })]);
    const path = join(folder, 'test.txt');
    await writeFile(path, recordedUploadText);
    const digest = sha256(recordedUploadText);
    const registry = await openUploadRegistry({ stateDirectory: folder, requiredLifetimeMilliseconds: 0 });
    const outcomes = await uploadFiles({
      client,
      registry,
      candidates: [{ path, sha256: digest, mimeType: 'text/plain', sizeBytes: 34, displayName: 'test.txt' }],
      concurrency: 1,
      now: () => Date.parse('2026-05-29T18:08:10Z'),
      retry,
    });
    await registry.close();
    const file = recordedJson<{ file: Record<string, string> }>(finalize).file;
    expect(outcomes.get(digest)).toEqual({
      status: 'uploaded',
      sha256: digest,
      reused: false,
      // expirationTime with nine fractional digits, as recorded, passes the registry's check.
      file: { sha256: digest, name: recordedUploadName, uri: file['uri'], mimeType: 'text/plain', sizeBytes: 34, expirationTime: '2026-05-31T18:08:09.916833159Z' },
    });
    // The recorded sha256Hash is base64 of the hex digest of these very bytes.
    expect(Buffer.from(file['sha256Hash'] ?? '', 'base64').toString('latin1')).toBe(digest);
    const [startRequest, chunkRequest] = replay!.requests();
    expect(startRequest).toMatchObject({ method: 'POST', target: '/upload/v1beta/files' });
    const { 'content-type': _recordedContentType, ...protocolHeaders } = start.request.headers ?? {};
    expect(startRequest?.headers).toMatchObject({ ...protocolHeaders, 'x-goog-upload-header-content-length': '34' });
    expect(JSON.parse(startRequest?.body.toString() ?? '')).toEqual({ file: { mimeType: 'text/plain', displayName: 'test.txt', sizeBytes: '34' } });
    // The chunk goes to the upload URL of the start answer, moved onto the server the client talks to.
    expect(chunkRequest?.target).toBe(finalize.request.target);
    expect(chunkRequest?.headers).toMatchObject(finalize.request.headers ?? {});
    expect(chunkRequest?.body.toString()).toBe(recordedUploadText);
  });

  it('files.get, files.list (no nextPageToken: one page) and files.delete ({}) read as recorded; clean deletes through it', async () => {
    const exchange = (name: string) => loadRecordedExchange('files-crud.json', name);
    const { client } = await replayRoutes([routeFrom(exchange('get')), routeFrom(exchange('list')), routeFrom(exchange('delete'))]);
    const file = await client.files.get({ name: recordedUploadName });
    expect(file).toMatchObject({ name: recordedUploadName, sizeBytes: '34', state: 'ACTIVE', source: 'UPLOADED', expirationTime: '2026-05-31T18:08:09.916833159Z' });
    const pager = await client.files.list({ config: { pageSize: 100 } });
    expect(pager.page.map((listed) => listed.name)).toEqual([recordedUploadName]);
    expect(pager.hasNextPage()).toBe(false);
    const report = await cleanWorkspaceFiles({
      client,
      retry,
      workspaceDirectory: folder,
      uploads: [{ sha256: sha256(recordedUploadText), name: recordedUploadName, uri: String(file.uri), mimeType: 'text/plain', sizeBytes: 34, expirationTime: String(file.expirationTime) }],
    });
    expect(report).toEqual({ deleted: [recordedUploadName], gone: [], refused: [] });
    expect(replay!.requests().map((request) => `${request.method} ${request.target}`)).toEqual([
      `GET /v1beta/${recordedUploadName}`, 'GET /v1beta/files?pageSize=100', `DELETE /v1beta/${recordedUploadName}`,
    ]);
  });
});

describe('the batch executor on recorded batch answers', () => {
  const settings = geminiSettingsSchema.parse({ maxRounds: 2, pollInitialMilliseconds: 1_000, retryInitialMilliseconds: 10, retryMaxMilliseconds: 100 });

  it('uploads, creates, polls PENDING → RUNNING → SUCCEEDED, follows the 302, and accounts for every key', async () => {
    const model = 'gemini-3.5-flash-lite';
    const { client, baseUrl } = await replayRoutes(recordedBatchRoutes({ model, results: toResultFile(recordedTextResultLines()) }));
    const logger = createMemoryLogger();
    const executor = createBatchExecutor({ client, connection: { apiKey, baseUrl }, workspace: { directory: folder, id: 'ws1' }, settings, environment, logger });
    const keys = ['00_COM.png', 'request_1', 'request_2', 'request_3', 'no-image', 'prompt-blocked', 'never-answered'];
    const report = await executor.execute({
      stage: 'analyze',
      model,
      lines: keys.map((key) => ({ key, request: { contents: [{ role: 'user', parts: [{ text: `Describe ${key}.` }] }] } })),
    });
    const outcome = (key: string) => report.outcomes.get(key);
    // The signature-only part stays a part of the answer, beside the unsigned JSON text.
    expect(outcome('00_COM.png')).toMatchObject({ status: 'succeeded' });
    const signed = partsOf(outcome('00_COM.png')?.status === 'succeeded' ? (outcome('00_COM.png') as { response: Record<string, unknown> }).response : undefined);
    expect(signed.map((part) => Object.keys(part))).toEqual([['text'], ['thoughtSignature']]);
    expect(JSON.parse(String(signed[0]?.['text']))).toMatchObject({ caption: expect.stringContaining('Clinica Veterinaria') });
    // Lines whose keys come in other orders are read by name.
    expect(outcome('request_1')).toMatchObject({ status: 'succeeded', response: { modelVersion: 'gemini-2.5-flash' } });
    expect(outcome('request_2')).toMatchObject({ status: 'succeeded', response: { responseId: '7FFkaJK7EaWOjMcP-LvX2AQ' } });
    // An error line with a code and no status name: named from the code, retried, then dead-lettered.
    expect(outcome('request_3')).toMatchObject({
      status: 'failed',
      retryable: true,
      reason: 'error 13 INTERNAL: An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting (after 2 rounds)',
      error: { code: 13 },
    });
    expect(outcome('no-image')).toEqual({ key: 'no-image', status: 'failed', retryable: true, reason: 'finish reason NO_IMAGE (after 2 rounds)' });
    expect(outcome('prompt-blocked')).toEqual({ key: 'prompt-blocked', status: 'failed', retryable: false, reason: 'prompt blocked: PROHIBITED_CONTENT' });
    expect(outcome('never-answered')).toMatchObject({ status: 'failed', retryable: true, reason: `missing from the results of ${recordedJobName} (after 2 rounds)` });
    expect(report.outcomes.size).toBe(keys.length);
    expect(report).toMatchObject({ jobsCreated: 2, jobsAdopted: 0, sentLines: 7 + 3, pendingJobs: 0 });

    const requests = replay!.requests();
    const creates = requests.filter((request) => request.target.endsWith(':batchGenerateContent'));
    expect(creates).toHaveLength(2);
    for (const create of creates) {
      expect(JSON.parse(create.body.toString())).toMatchObject({ batch: { displayName: expect.stringMatching(/^chargen-ws1-analyze-[0-9a-f]{16}-[12]$/), inputConfig: { fileName: recordedUploadName } } });
    }
    // Polled until SUCCEEDED (RUNNING first), then the SDK's download URL, redirected to /download/ with the key kept.
    const paths = requests.map((request) => `${request.method} ${request.target}`);
    expect(paths.slice(0, 7)).toEqual([
      'POST /upload/v1beta/files',
      expect.stringMatching(/^POST \/upload\/v1beta\/files\?upload_id=/),
      `POST /v1beta/models/${model}:batchGenerateContent`,
      `GET /v1beta/${recordedJobName}`,
      `GET /v1beta/${recordedJobName}`,
      `GET /v1beta/${recordedResultsFile}:download?alt=media`,
      `GET /download/v1beta/${recordedResultsFile}:download?alt=media`,
    ]);
    expect(requests[6]?.headers['x-goog-api-key']).toBe(apiKey);
    expect(logger.lines.map((line) => line.text)).toContain(`warning: analyze: ${join(folder, 'downloads', 'analyze')}/${JSON.parse(creates[1]!.body.toString()).batch.displayName}.jsonl: 4 lines with keys this job did not send; ignored`);
  });

  it('streams image answers through the image stage reader: images and signatures to blobs, a 2.9 MB signature too', async () => {
    const model = 'gemini-3-pro-image';
    const lines = recordedImageResultLines({ recordedSizeSignature: true });
    const { client, baseUrl } = await replayRoutes(recordedBatchRoutes({ model, results: toResultFile(lines) }));
    const blobDirectory = join(folder, 'blobs');
    const executor = createBatchExecutor({
      client,
      connection: { apiKey, baseUrl },
      workspace: { directory: folder, id: 'ws1' },
      settings,
      environment,
      logger: createMemoryLogger(),
      readResults: createStreamingResultReader({ blobDirectory, chunkBytes: 256 * 1024 }),
    });
    const keys = ['otter', 'axolotl', 'flash', 'pip'];
    const report = await executor.execute({ stage: 'synthesize', model, lines: keys.map((key) => ({ key, request: { contents: [{ role: 'user', parts: [{ text: key }] }] } })) });
    expect(report).toMatchObject({ jobsCreated: 1, sentLines: 4 });
    const choices = new Map(
      keys.map((key) => {
        const outcome = report.outcomes.get(key);
        if (outcome?.status !== 'succeeded') throw new Error(`${key}: ${JSON.stringify(outcome)}`);
        return [key, chooseImage(outcome.response)];
      }),
    );
    const recordedPart = (key: string, index: number) => partsOf(lines.find((line) => line['key'] === key)?.['response'] as Record<string, unknown>)[index]!;
    const decoded = (value: unknown) => Buffer.from(String(value), 'base64');
    for (const [key, index] of [['otter', 0], ['axolotl', 1], ['flash', 0]] as const) {
      const choice = choices.get(key);
      if (!choice?.ok) throw new Error(`${key}: ${JSON.stringify(choice)}`);
      const part = recordedPart(key, index);
      const jpeg = decoded((part['inlineData'] as { data: string }).data);
      expect(choice.image).toMatchObject({ mimeType: 'image/jpeg', thought: false, index, blob: { sha256: sha256(jpeg), bytes: jpeg.length } });
      expect(await readFile(join(blobDirectory, choice.image.blob.sha256))).toEqual(jpeg);
      const signature = decoded(part['thoughtSignature']);
      expect(choice.image.signature).toEqual({ sha256: sha256(signature), bytes: signature.length });
      // Compared by hash: vitest's deep equality walks a 2 MB buffer byte by byte.
      expect(sha256(await readFile(join(blobDirectory, sha256(signature))))).toBe(sha256(signature));
    }
    const otter = choices.get('otter');
    // The recorded signature's length: 2,909,844 base64 characters, 2,182,383 bytes.
    expect(otter?.ok && otter.image.signature?.bytes).toBe((recordedSignatureCharacters / 4) * 3);
    const axolotl = choices.get('axolotl');
    expect(axolotl?.ok && axolotl.textParts).toEqual([String(recordedPart('axolotl', 0)['text'])]);
    const pip = choices.get('pip');
    expect(pip).toMatchObject({ ok: true, image: { mimeType: 'image/png', index: 1 }, textParts: [String(recordedPart('pip', 0)['text'])] });
    expect(pip?.ok && pip.image.signature).toBeUndefined();
  });

  it('finds the workspace job in a recorded batches.list ({"operations": [...]}) by its displayName', async () => {
    const list = substituteText(loadRecordedExchange('batch-operations.json', 'list'), { 'ExecuteAsFile Example': 'chargen-ws1-analyze-0123456789abcdef-1' });
    const { client } = await replayRoutes([routeFrom(list)]);
    const jobs = await listWorkspaceJobs({ client, workspaceId: 'ws1', retry });
    expect(jobs).toEqual([
      {
        name: 'batches/7h9w4gzuqot3bb3fpd1e2nqcp980iwnmjs7n',
        displayName: 'chargen-ws1-analyze-0123456789abcdef-1',
        state: 'JOB_STATE_PENDING',
        model: 'models/gemini-2.5-flash',
        createTime: '2025-09-07T11:55:07.827892252Z',
        updateTime: '2025-09-07T11:55:07.827892252Z',
      },
    ]);
  });
});

describe('the result readers on recorded result lines', () => {
  async function writeResults(lines: Record<string, unknown>[]): Promise<string> {
    const path = join(folder, 'results.jsonl');
    await writeFile(path, toResultFile(lines));
    return path;
  }

  async function collect(lines: AsyncIterable<ResultLine>): Promise<ResultLine[]> {
    const read: ResultLine[] = [];
    for await (const line of lines) read.push(line);
    return read;
  }

  it('readResultLines: responses whatever their key order, the error line with its code and no status', async () => {
    const path = await writeResults(recordedTextResultLines());
    const read = await collect(readResultLines(path));
    expect(read.map((line) => [line.kind, 'key' in line ? line.key : undefined, line.lineNumber])).toEqual([
      ['response', '00_COM.png', 1], ['response', 'request_1', 2], ['response', 'request_2', 3], ['error', 'request_3', 4], ['response', 'no-image', 5], ['response', 'prompt-blocked', 6],
    ]);
    expect(read[3]).toMatchObject({ error: loadRecordedLines('result-line-error-without-status.json')[0]?.['error'] });
  });

  it('the streaming reader: the same verdicts, and a signature-only part moved to a blob of its bytes', async () => {
    const path = await writeResults(recordedTextResultLines());
    const blobDirectory = join(folder, 'blobs');
    const read = await collect(createStreamingResultReader({ blobDirectory, chunkBytes: 7 })(path));
    expect(read.map((line) => [line.kind, 'key' in line ? line.key : undefined])).toEqual([
      ['response', '00_COM.png'], ['response', 'request_1'], ['response', 'request_2'], ['error', 'request_3'], ['response', 'no-image'], ['response', 'prompt-blocked'],
    ]);
    const first = read[0];
    const parts = partsOf(first?.kind === 'response' ? first.response : undefined);
    const signature = Buffer.from('El4KXAERTTIP', 'base64');
    expect(parts[1]).toEqual({ thoughtSignature: { blob: { sha256: sha256(signature), bytes: signature.length } } });
    expect(await readFile(join(blobDirectory, sha256(signature)))).toEqual(signature);
    // NO_IMAGE keeps its empty content object.
    const noImage = read[4];
    expect(noImage?.kind === 'response' && noImage.response['candidates']).toEqual([{ content: {}, finishReason: 'NO_IMAGE', index: 0 }]);
  });

  it('the streaming reader on a recorded-size signature: decoded to a blob as it streams, the right bytes', async () => {
    const signature = makeRecordedSizeSignature('EuiZhQEK45mFAQERTTIP77J6FD1RnK8Fo8PkEwOl');
    const answer = loadRecordedAnswer('answer-gemini-3-pro-image.json');
    (partsOf(answer)[0] as { thoughtSignature: string }).thoughtSignature = signature;
    const path = await writeResults([toResultLine('otter', answer)]);
    const blobDirectory = join(folder, 'blobs');
    const [line] = await collect(createStreamingResultReader({ blobDirectory, chunkBytes: 64 * 1024, maxLineTextBytes: 64 * 1024 })(path));
    if (line?.kind !== 'response') throw new Error(JSON.stringify(line));
    const bytes = Buffer.from(signature, 'base64');
    expect(partsOf(line.response)[0]?.['thoughtSignature']).toEqual({ blob: { sha256: sha256(bytes), bytes: bytes.length } });
    expect(sha256(await readFile(join(blobDirectory, sha256(bytes))))).toBe(sha256(bytes));
  });
});

describe('the sync executor on recorded generateContent answers', () => {
  const settings = geminiSettingsSchema.parse({ retryInitialMilliseconds: 10, retryMaxMilliseconds: 100 });

  async function runSync(options: { routes: ReplayRoute[]; model: string; request?: Record<string, unknown>; images?: boolean }) {
    const { client } = await replayRoutes(options.routes);
    const blobDirectory = join(folder, 'blobs');
    const executor = createSyncExecutor({ client, workspace: { directory: folder }, settings, environment, logger: createMemoryLogger() });
    const report = await executor.execute({
      stage: 'sync',
      model: options.model,
      lines: [{ key: 'k', request: options.request ?? { contents: [{ role: 'user', parts: [{ text: 'a character' }] }] } }],
      ...(options.images ? { prepareResponse: (response: Record<string, unknown>) => storeInlineData({ blobDirectory, response }) } : {}),
    });
    return { outcome: report.outcomes.get('k'), report, blobDirectory, calls: replay!.requests().length };
  }

  const generate = (model: string) => `/v1beta/models/${model}:generateContent`;

  it('gemini-3-pro-image: the JPEG and its signature go to blobs; the usage is kept as answered', async () => {
    const exchange = loadRecordedExchange('answer-gemini-3-pro-image.json');
    const { outcome, blobDirectory } = await runSync({ routes: [routeFrom(exchange)], model: 'gemini-3-pro-image', request: exchange.request.body as Record<string, unknown>, images: true });
    if (outcome?.status !== 'succeeded') throw new Error(JSON.stringify(outcome));
    const choice = chooseImage(outcome.response);
    if (!choice.ok) throw new Error(choice.reason);
    const part = partsOf(recordedJson(exchange))[0]!;
    const jpeg = Buffer.from((part['inlineData'] as { data: string }).data, 'base64');
    expect(await readFile(join(blobDirectory, choice.image.blob.sha256))).toEqual(jpeg);
    expect(jpeg.subarray(0, 22).toString('hex')).toBe('ffd8ffe000104a46494600010101012c012c0000ffeb');
    expect(choice.image.signature?.bytes).toBe(Buffer.from(String(part['thoughtSignature']), 'base64').length);
    expect(outcome.response['usageMetadata']).toEqual(recordedJson(exchange)['usageMetadata']);
    expect(outcome.response).toMatchObject({ modelVersion: 'gemini-3-pro-image', responseId: '8cxparnuJ-aCg8UPx8HfwQM' });
  });

  it('gemini-3-flash-preview JSON under a schema: the signed text part is the answer, its JSON read after trimming', async () => {
    const exchange = loadRecordedExchange('answer-gemini-3-flash-preview-json.json');
    const { outcome } = await runSync({ routes: [routeFrom(exchange)], model: 'gemini-3-flash-preview', request: exchange.request.body as Record<string, unknown> });
    if (outcome?.status !== 'succeeded') throw new Error(JSON.stringify(outcome));
    const [part] = partsOf(outcome.response);
    expect(Object.keys(part ?? {})).toEqual(['text', 'thoughtSignature']);
    expect(JSON.parse(String(part?.['text']).trim())).toEqual({ city: 'Mexico City', country: 'Mexico' });
  });

  it('includeThoughts: the unsigned thought part is kept flagged, the answer part signed', async () => {
    const exchange = loadRecordedExchange('answer-include-thoughts-json.json');
    const { outcome } = await runSync({ routes: [routeFrom(exchange, { target: generate('gemini-3.1-pro-preview') })], model: 'gemini-3.1-pro-preview', request: exchange.request.body as Record<string, unknown> });
    if (outcome?.status !== 'succeeded') throw new Error(JSON.stringify(outcome));
    expect(partsOf(outcome.response).map((part) => [part['thought'] === true, typeof part['thoughtSignature'] === 'string'])).toEqual([[true, false], [false, true]]);
  });

  it('NO_IMAGE with an empty content object: retried, then failed as retryable', async () => {
    const exchange = loadRecordedExchange('answer-no-image.json');
    const { outcome, calls } = await runSync({ routes: [routeFrom(exchange, { target: generate('gemini-3.1-flash-image') })], model: 'gemini-3.1-flash-image', images: true });
    expect(outcome).toEqual({ key: 'k', status: 'failed', retryable: true, reason: 'finish reason NO_IMAGE (after 3 rounds)' });
    expect(calls).toBe(3);
  });

  it('a prompt block without candidates: failed at once, not retried', async () => {
    const exchange = loadRecordedExchange('answer-prompt-blocked.json');
    const { outcome, calls } = await runSync({ routes: [routeFrom(exchange, { target: generate('gemini-3.1-flash-image') })], model: 'gemini-3.1-flash-image', images: true });
    expect(outcome).toEqual({ key: 'k', status: 'failed', retryable: false, reason: 'prompt blocked: PROHIBITED_CONTENT' });
    expect(calls).toBe(1);
  });

  it('429 with RetryInfo: waits at least the 26 s it asks for, then takes the answer', async () => {
    const quota = loadRecordedExchange('error-quota-retry-info.json');
    const answer = loadRecordedExchange('answer-gemini-3-pro-image.json');
    const { outcome, calls } = await runSync({
      routes: [{ method: 'POST', target: generate('gemini-3-pro-image'), answers: [answerFrom(quota), answerFrom(answer)] }],
      model: 'gemini-3-pro-image',
      images: true,
    });
    expect(outcome?.status).toBe('succeeded');
    expect(calls).toBe(2);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(26_000);
  });

  it('400 API_KEY_INVALID: failed for good, the message kept', async () => {
    const exchange = loadRecordedExchange('error-api-key-invalid.json');
    const { outcome, calls } = await runSync({ routes: [routeFrom(exchange, { target: generate('gemini-3-flash-preview') })], model: 'gemini-3-flash-preview' });
    expect(outcome).toMatchObject({ status: 'failed', retryable: false, reason: expect.stringContaining('API key not valid. Please pass a valid API key.'), error: { code: 400 } });
    expect(outcome?.status === 'failed' && outcome.reason).toContain('API_KEY_INVALID');
    expect(calls).toBe(1);
  });

  it('404 for a retired id: failed, naming the recorded message', async () => {
    const exchange = substituteText(loadRecordedExchange('generate-content-retired-model.json'), { 'gemini-exp-1206': 'gemini-3-pro-image-preview' });
    const { outcome } = await runSync({ routes: [routeFrom(exchange)], model: 'gemini-3-pro-image-preview' });
    // A model that is not served is not a referenced file that is gone: no upload mends it, so it is not retried.
    expect(outcome).toMatchObject({
      status: 'failed',
      retryable: false,
      reason: expect.stringContaining('models/gemini-3-pro-image-preview is not found for API version v1beta, or is not supported for generateContent.'),
      error: { code: 404 },
    });
  });
});

describe('checkServedModels on recorded models.get answers', () => {
  const uses = [
    { model: 'gemini-3-flash-preview', method: 'batchGenerateContent' as const, setting: 'analyze.model' },
    { model: 'gemini-3-pro-image', method: 'batchGenerateContent' as const, setting: 'synthesize.model' },
  ];

  it('accepts the models whose recorded resource lists batchGenerateContent', async () => {
    const { client } = await replayRoutes([routeFrom(loadRecordedExchange('models-get-gemini-3-flash-preview.json')), routeFrom(loadRecordedExchange('models-get-gemini-3-pro-image.json'))]);
    await expect(checkServedModels({ client, uses, retry })).resolves.toBeUndefined();
    expect(replay!.requests().map((request) => request.target)).toEqual(['/v1beta/models/gemini-3-flash-preview', '/v1beta/models/gemini-3-pro-image']);
  });

  it('refuses a retired id on the recorded 404, naming its replacement and the nearest ids of the recorded list', async () => {
    const notFound = substituteText(loadRecordedExchange('models-get-not-found.json'), { 'invalid-model': 'gemini-3-pro-image-preview' });
    const { client } = await replayRoutes([routeFrom(loadRecordedExchange('models-get-gemini-3-flash-preview.json')), routeFrom(notFound), routeFrom(loadRecordedExchange('models-list-page.json'))]);
    const error = await checkServedModels({ client, uses: [uses[0]!, { ...uses[1]!, model: 'gemini-3-pro-image-preview' }], retry }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ModelNotServedError);
    // The list recorded on 2026-08-17 still names the preview shut down on 2026-06-25 (listed is not served), so it
    // comes first among the "nearest served"; the replacement from the catalog is what the message leads with.
    expect((error as ModelNotServedError).message).toBe(
      'synthesize.model: gemini-3-pro-image-preview is not served by the API: gemini-3-pro-image-preview was shut down on 2026-06-25; use gemini-3-pro-image ' +
        '(nearest served: gemini-3-flash-preview, gemini-3.1-pro-preview, gemini-3-pro-image)\n' +
        'Set the model in chargen.config.json and run again; nothing was uploaded or sent.',
    );
  });
});
