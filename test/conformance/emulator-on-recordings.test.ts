import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultConfigSchema } from '../../emulator/fault-config.ts';
import { startTestEmulator, testApiKey, type TestEmulator } from '../support/start-test-emulator.ts';
import { compareShape, type ShapeOptions } from './compare-shape.ts';
import { loadRecordedExchange, loadRecordedFixture, loadRecordedLines, recordedJson, substituteText, type RecordedExchange } from './recorded-fixtures.ts';

/**
 * The emulator held against the recorded shapes (test/fixtures/recorded), field by field: for each kind of recorded
 * answer, the emulator is asked the equivalent request and its raw answer's structure compared with the recording's
 * (key sets, key order where the recording shows the wire's, value types, int64 strings and timestamps, absent
 * fields), with the front end's encoding. Where they disagree the recording wins: the emulator is what gets fixed.
 */

let emulator: TestEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => emulator.close());

type Json = Record<string, unknown>;

/** Status, content type and gzip (fetch, like the SDK's, accepts gzip) as the recorded exchange had them. */
function expectFrontEnd(response: Response, exchange: RecordedExchange): void {
  expect(response.status).toBe(exchange.response.status);
  expect(response.headers.get('content-type')).toBe(exchange.response.headers['content-type'] ?? null);
  expect(response.headers.get('content-encoding') === 'gzip', `gzip-encoded as recorded (${exchange.name})`).toBe(exchange.response.gzip);
}

function expectShape(recorded: unknown, actual: unknown, options: ShapeOptions): void {
  expect(compareShape(recorded, actual, options)).toEqual([]);
}

function wireOrderOf(fixture: string, exchange?: RecordedExchange): boolean {
  return (exchange?.source ?? loadRecordedFixture(fixture).source).keyOrder === 'wire';
}

async function generate(model: string, body: unknown): Promise<{ response: Response; json: Json }> {
  const response = await emulator.request(`/v1beta/models/${model}:generateContent`, { json: body });
  return { response, json: (await response.json()) as Json };
}

function textRequest(text: string, generationConfig: Json = {}): Json {
  return { contents: [{ role: 'user', parts: [{ text }] }], generationConfig };
}

function partsOf(answer: Json): Json[] {
  return ((answer['candidates'] as { content: { parts: Json[] } }[])[0]?.content.parts) ?? [];
}

describe('models, as recorded', () => {
  it('models.get answers each recorded Model resource field for field: no baseModelId, thinking only when true', async () => {
    for (const fixture of ['models-get-gemini-3-flash-preview.json', 'models-get-gemini-3-pro-image.json']) {
      const exchange = loadRecordedExchange(fixture);
      const response = await emulator.request(exchange.request.target);
      expectFrontEnd(response, exchange);
      const body = await response.json();
      expectShape(recordedJson(exchange), body, { wireOrder: wireOrderOf(fixture) });
      expect(body).toEqual(recordedJson(exchange));
    }
  });

  it('models.list: {"models": [...]} without nextPageToken when all fit; the models both know are the same resource', async () => {
    const exchange = loadRecordedExchange('models-list-page.json');
    const response = await emulator.request(exchange.request.target);
    expectFrontEnd(response, exchange);
    const body = (await response.json()) as { models: Json[] };
    expect(Object.keys(body)).toEqual(['models']);
    const served = new Map(body.models.map((model) => [model['name'], model]));
    const recorded = recordedJson<{ models: Json[] }>(exchange).models;
    for (const model of recorded) {
      // Previews shut down on 2026-06-25 were still listed on 2026-08-17; the emulator lists only what it serves.
      if (/-preview$/.test(String(model['name'])) && String(model['name']).includes('image')) {
        expect(served.has(model['name'])).toBe(false);
        continue;
      }
      expectShape(model, served.get(model['name']), { wireOrder: true });
      expect(served.get(model['name'])).toEqual(model);
    }
  });

  it('models.get of a retired id: 404 "Model is not found: …" with no details', async () => {
    const exchange = substituteText(loadRecordedExchange('models-get-not-found.json'), { 'invalid-model': 'gemini-3-pro-image-preview' });
    const response = await emulator.request(exchange.request.target);
    expectFrontEnd(response, exchange);
    expect(await response.json()).toEqual(recordedJson(exchange));
  });

  it('generateContent of a retired id: 404 naming the method, with no details', async () => {
    const exchange = substituteText(loadRecordedExchange('generate-content-retired-model.json'), { 'gemini-exp-1206': 'gemini-3-pro-image-preview' });
    const response = await emulator.request(exchange.request.target, { json: textRequest('hello') });
    expectFrontEnd(response, exchange);
    expect(await response.json()).toEqual(recordedJson(exchange));
  });
});

describe('errors, as recorded', () => {
  it('a wrong key: 400 INVALID_ARGUMENT with ErrorInfo API_KEY_INVALID and a LocalizedMessage, body for body', async () => {
    const keyed = await startTestEmulator({ apiKey: 'the-right-key' });
    try {
      const exchange = loadRecordedExchange('error-api-key-invalid.json');
      const response = await keyed.request('/v1beta/models/gemini-3-flash-preview:generateContent', { json: textRequest('hello'), headers: { 'x-goog-api-key': 'a-wrong-key' } });
      expectFrontEnd(response, exchange);
      const body = await response.json();
      expectShape(recordedJson(exchange), body, { wireOrder: true });
      expect(body).toEqual(recordedJson(exchange));
    } finally {
      await keyed.close();
    }
  });

  it('429 RESOURCE_EXHAUSTED: QuotaFailure, Help and RetryInfo in the recorded order', async () => {
    const limited = await startTestEmulator({ faults: { endpoints: { 'models.generateContent': { rate429: 1 } }, retryDelaySeconds: 26 } });
    try {
      const exchange = loadRecordedExchange('error-quota-retry-info.json');
      const response = await limited.request('/v1beta/models/gemini-3-flash-preview:generateContent', { json: textRequest('hello') });
      expectFrontEnd(response, exchange);
      expectShape(recordedJson(exchange), await response.json(), {
        wireOrder: true,
        sameValue: ['error.code', 'error.message', 'error.status', 'error.details[*].@type', 'error.details[1]', 'error.details[2]'],
      });
    } finally {
      await limited.close();
    }
  });
});

describe('generateContent answers, as recorded', () => {
  const common = ['candidates[0].finishReason', 'candidates[0].index', 'candidates[0].content.role', 'usageMetadata.serviceTier', 'usageMetadata.candidatesTokensDetails'];

  it('gemini-3-pro-image: one signed JPEG part (JFIF, then APP11 C2PA), no text, no thought; IMAGE-only details', async () => {
    const exchange = loadRecordedExchange('answer-gemini-3-pro-image.json');
    const { response, json } = await generate('gemini-3-pro-image', exchange.request.body);
    expectFrontEnd(response, exchange);
    const recorded = recordedJson(exchange);
    expectShape(recorded, json, { wireOrder: wireOrderOf('answer-gemini-3-pro-image.json'), sameValue: [...common, 'candidates[0].content.parts[0].inlineData.mimeType', 'modelVersion'] });
    const jpeg = Buffer.from(String((partsOf(json)[0]?.['inlineData'] as Json)['data']), 'base64');
    const recordedJpeg = Buffer.from(String((partsOf(recorded)[0]?.['inlineData'] as Json)['data']), 'base64');
    expect(jpeg.subarray(0, 22)).toEqual(recordedJpeg.subarray(0, 22));
    expect(jpeg.subarray(24, 26).toString('latin1')).toBe('JP');
  });

  it('TEXT and IMAGE asked of Gemini 3 Pro Image: a signed text part, then a signed JPEG part', async () => {
    const exchange = loadRecordedExchange('answer-gemini-3-pro-image-preview-text-and-image.json');
    const { response, json } = await generate('gemini-3-pro-image', exchange.request.body);
    expectFrontEnd(response, exchange);
    // Recorded in November 2025, before usageMetadata carried serviceTier.
    expectShape(recordedJson(exchange), json, { wireOrder: false, allowExtra: ['usageMetadata.serviceTier'], sameValue: ['candidates[0].content.parts[1].inlineData.mimeType', ...common.slice(0, 3)] });
  });

  it('gemini-3.1-flash-image: one signed JPEG part, no thoughtsTokenCount, keys in the wire order', async () => {
    const exchange = loadRecordedExchange('answer-gemini-3.1-flash-image.json');
    const { response, json } = await generate('gemini-3.1-flash-image', textRequest('a lighthouse at dusk', { responseModalities: ['IMAGE'] }));
    expectFrontEnd(response, exchange);
    expectShape(recordedJson(exchange), json, { wireOrder: true, sameValue: [...common, 'candidates[0].content.parts[0].inlineData.mimeType', 'modelVersion'] });
  });

  it('gemini-2.5-flash-image with no responseModalities: text and an unsigned PNG, no thought tokens', async () => {
    const exchange = loadRecordedExchange('answer-gemini-2.5-flash-image.json');
    const { response, json } = await generate('gemini-2.5-flash-image', exchange.request.body);
    expectFrontEnd(response, exchange);
    // Recorded in October 2025, before serviceTier.
    expectShape(recordedJson(exchange), json, {
      wireOrder: false,
      allowExtra: ['usageMetadata.serviceTier'],
      sameValue: [...common.slice(0, 3), 'usageMetadata.candidatesTokensDetails', 'candidates[0].content.parts[1].inlineData.mimeType', 'modelVersion'],
    });
  });

  it('NO_IMAGE: "content": {} and no finishMessage', async () => {
    const exchange = loadRecordedExchange('answer-no-image.json');
    const { response, json } = await generate('gemini-3.1-flash-image', textRequest('[[no-image]] a lighthouse', { responseModalities: ['IMAGE'] }));
    expectFrontEnd(response, exchange);
    expectShape(recordedJson(exchange), json, { wireOrder: true, sameValue: ['candidates', 'usageMetadata.serviceTier'] });
  });

  it('a prompt block: promptFeedback and no candidates key, no blockReasonMessage', async () => {
    const exchange = loadRecordedExchange('answer-prompt-blocked.json');
    const { response, json } = await generate('gemini-3.1-flash-image', textRequest('[[prompt-block]] a lighthouse', { responseModalities: ['IMAGE'] }));
    expectFrontEnd(response, exchange);
    // The emulator's marker blocks with SAFETY; the recording shows PROHIBITED_CONTENT: both are block reasons.
    expectShape(recordedJson(exchange), json, { wireOrder: true, sameValue: ['usageMetadata.serviceTier'] });
  });

  it('gemini-3-flash-preview JSON under responseJsonSchema: one text part that carries the signature', async () => {
    const exchange = loadRecordedExchange('answer-gemini-3-flash-preview-json.json');
    const { response, json } = await generate('gemini-3-flash-preview', exchange.request.body);
    expectFrontEnd(response, exchange);
    // Recorded on 2026-05-12, before serviceTier.
    expectShape(recordedJson(exchange), json, { wireOrder: false, allowExtra: ['usageMetadata.serviceTier'], sameValue: [...common.slice(0, 3), 'modelVersion'] });
    expect(JSON.parse(String(partsOf(json)[0]?.['text']))).toMatchObject({ city: expect.any(String), country: expect.any(String) });
  });

  it('includeThoughts: an unsigned thought part, then the signed answer; without it, no thought part', async () => {
    const exchange = loadRecordedExchange('answer-include-thoughts-json.json');
    const recorded = recordedJson(exchange);
    const { response, json } = await generate('gemini-3.1-pro-preview', exchange.request.body);
    expectFrontEnd(response, exchange);
    expectShape(recorded, json, { wireOrder: true, sameValue: [...common.slice(0, 4), 'candidates[0].content.parts[0].thought', 'modelVersion'] });
    const request = structuredClone(exchange.request.body) as { generationConfig: { thinkingConfig: Json } };
    delete request.generationConfig.thinkingConfig['includeThoughts'];
    const withoutThoughts = structuredClone(recorded) as { candidates: { content: { parts: Json[] } }[] };
    withoutThoughts.candidates[0]!.content.parts.shift();
    expectShape(withoutThoughts, (await generate('gemini-3.1-pro-preview', request)).json, { wireOrder: true });
  });
});

describe('the Files API, as recorded (maruel/genai FileCRUD.yaml)', () => {
  it('start, finalize, get, list and delete answer as recorded, gzip on get/list/delete only', async () => {
    const exchange = (name: string) => loadRecordedExchange('files-crud.json', name);
    const start = exchange('start');
    const startResponse = await emulator.request('/upload/v1beta/files', {
      json: start.request.body,
      // The recorded request shows no content length; the JS SDK always sends it.
      headers: { ...start.request.headers, 'x-goog-upload-header-content-length': '34' },
    });
    expectFrontEnd(startResponse, start);
    for (const name of ['content-length', 'x-goog-upload-status', 'x-goog-upload-chunk-granularity']) expect(startResponse.headers.get(name), name).toBe(start.response.headers[name]);
    const uploadUrl = startResponse.headers.get('x-goog-upload-url') ?? '';
    expect(uploadUrl).toMatch(new RegExp(`^${emulator.baseUrl}/upload/v1beta/files\\?upload_id=[A-Za-z0-9_-]+&upload_protocol=resumable$`));
    expect(startResponse.headers.get('x-goog-upload-control-url')).toBe(uploadUrl);
    expect(await startResponse.text()).toBe('');

    const finalize = exchange('finalize');
    const finalizeResponse = await fetch(uploadUrl, { method: 'POST', headers: { 'x-goog-api-key': testApiKey, ...finalize.request.headers }, body: String((finalize.request.body as { text: string }).text) });
    expectFrontEnd(finalizeResponse, finalize);
    expect(finalizeResponse.headers.get('x-goog-upload-status')).toBe('final');
    const file = ((await finalizeResponse.json()) as { file: Json }).file;
    const sameFile = ['displayName', 'mimeType', 'sizeBytes', 'sha256Hash', 'state', 'source'];
    expectShape(recordedJson(finalize), { file }, { wireOrder: true, sameValue: sameFile.map((name) => `file.${name}`) });

    const id = String(file['name']);
    const get = await emulator.request(`/v1beta/${id}`);
    expectFrontEnd(get, exchange('get'));
    expectShape(recordedJson(exchange('get')), await get.json(), { wireOrder: true, sameValue: sameFile });
    const list = await emulator.request('/v1beta/files?pageSize=100');
    expectFrontEnd(list, exchange('list'));
    expectShape(recordedJson(exchange('list')), await list.json(), { wireOrder: true, sameValue: sameFile.map((name) => `files[0].${name}`) });
    const deleted = await emulator.request(`/v1beta/${id}`, { method: 'DELETE', body: '{}' });
    expectFrontEnd(deleted, exchange('delete'));
    expect(await deleted.json()).toEqual({});
  });
});

describe('a batch job, as recorded', () => {
  const model = 'gemini-3.5-flash-lite';
  const operation = (name: string) => loadRecordedExchange('batch-operations.json', name);
  const sameOperation = ['metadata.@type', 'metadata.state', 'response.@type', 'done'];

  async function createJob(target: TestEmulator, lines: number): Promise<Json> {
    const jsonl = Array.from({ length: lines }, (_unused, index) => JSON.stringify({ key: `line-${index}`, request: textRequest(`Describe picture ${index}.`) })).join('\n');
    const file = await target.client.files.upload({ file: new Blob([`${jsonl}\n`]), config: { mimeType: 'application/json' } });
    const response = await target.request(`/v1beta/models/${model}:batchGenerateContent`, { json: { batch: { displayName: 'lupa-batch', inputConfig: { fileName: file.name } } } });
    expectFrontEnd(response, operation('create'));
    return (await response.json()) as Json;
  }

  it('create (PENDING), batches.list, get (RUNNING, then SUCCEEDED): Operations key for key, counts as strings, zeros left out', async () => {
    const created = await createJob(emulator, 2);
    expectShape(recordedJson(operation('create')), created, { wireOrder: true, sameValue: sameOperation });
    const name = String(created['name']);
    expect(name).toMatch(/^batches\/[a-z0-9]{36}$/);

    const list = await emulator.request('/v1beta/batches?pageSize=100');
    expectFrontEnd(list, operation('list'));
    expectShape(recordedJson(operation('list')), await list.json(), { wireOrder: true, eachLikeFirst: ['operations'], sameValue: ['operations[*].metadata.state'] });

    const poll = async (exchange: RecordedExchange) => {
      const response = await emulator.request(`/v1beta/${name}`);
      expectFrontEnd(response, exchange);
      expectShape(recordedJson(exchange), await response.json(), { wireOrder: true, sameValue: sameOperation, allowExtra: exchange.notRecorded ?? [] });
    };
    emulator.clock.advance(1_001);
    await poll(operation('get running'));
    emulator.clock.advance(1_001);
    await poll(operation('get succeeded'));
  });

  it('the download: 302 to /download/… with the recorded JSON body, then the bytes; result lines as recorded', async () => {
    const created = await createJob(emulator, 1);
    emulator.clock.advance(2_002);
    const done = (await (await emulator.request(`/v1beta/${String(created['name'])}`)).json()) as { response: { responsesFile: string } };
    const responsesFile = done.response.responsesFile;
    expect(responsesFile).toBe(`files/batch-${String(created['name']).slice('batches/'.length)}`);

    const [redirect, download] = ['redirect', 'download'].map((name) => loadRecordedExchange('files-download.json', name)) as [RecordedExchange, RecordedExchange];
    const first = await fetch(`${emulator.baseUrl}/v1beta/${responsesFile}:download?alt=media`, { redirect: 'manual', headers: { 'x-goog-api-key': testApiKey } });
    expectFrontEnd(first, redirect);
    expect(first.headers.get('location')).toBe(`${emulator.baseUrl}/download/v1beta/${responsesFile}:download?alt=media`);
    expect(await first.json()).toEqual(recordedJson(redirect));
    const second = await fetch(first.headers.get('location') ?? '', { headers: { 'x-goog-api-key': testApiKey } });
    expect(second.status).toBe(download.response.status);
    expect(second.headers.get('content-disposition')).toBe(download.response.headers['content-disposition']);
    // The recorded form: crc32c of the whole file, 4 bytes big-endian in base64.
    expect(download.response.headers['x-goog-hash']).toMatch(/^crc32c=[A-Za-z0-9+/]{6}==$/);
    expect(second.headers.get('x-goog-hash')).toMatch(/^crc32c=[A-Za-z0-9+/]{6}==$/);
    // The recorded 200 (a video) came plain; whether a results file comes gzip-encoded is not recorded, so the
    // emulator's gzip here is left as the harder case for a reader.
    const [line] = (await second.text()).trim().split('\n').map((text) => JSON.parse(text) as Json);
    const recordedLine = loadRecordedLines('result-line-signature-only-part.json')[0];
    // The recorded line's author left out the fields nothing read.
    expectShape(recordedLine, { ...line, key: '00_COM.png' }, {
      wireOrder: true,
      allowExtra: ['response.usageMetadata.promptTokensDetails', 'response.usageMetadata.thoughtsTokenCount', 'response.usageMetadata.serviceTier'],
      sameValue: ['response.candidates[0].finishReason', 'response.candidates[0].content.role', 'response.modelVersion'],
    });
    for (const cookbookLine of loadRecordedLines('result-lines-key-order.json')) {
      expectShape(cookbookLine, line, { wireOrder: false, ignore: ['response.candidates'], allowExtra: ['response.usageMetadata.serviceTier'] });
    }
  });

  it('an error line: {"error": {"code": 13, "message"}, "key"} without a status name', async () => {
    const faulty = await startTestEmulator({ faults: faultConfigSchema.parse({ lineErrorRate: 1 }) });
    try {
      const created = await createJob(faulty, 1);
      faulty.clock.advance(2_002);
      const done = (await (await faulty.request(`/v1beta/${String(created['name'])}`)).json()) as { response: { responsesFile: string } };
      const text = await (await fetch(`${faulty.baseUrl}/v1beta/${done.response.responsesFile}:download?alt=media`, { headers: { 'x-goog-api-key': testApiKey } })).text();
      const [recorded] = loadRecordedLines('result-line-error-without-status.json');
      expect(JSON.parse(text.trim())).toEqual({ ...recorded, key: 'line-0' });
    } finally {
      await faulty.close();
    }
  });
});
