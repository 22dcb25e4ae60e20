import { ApiError } from '@google/genai';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSamplePng } from '../support/sample-images.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';

let emulator: TestEmulator;
let workDirectory: string;

beforeAll(async () => {
  emulator = await startTestEmulator();
  workDirectory = await mkdtemp(join(tmpdir(), 'chargen-files-test-'));
});
afterAll(async () => {
  await emulator.close();
  await rm(workDirectory, { recursive: true, force: true });
});
afterEach(async () => {
  await emulator.emulator.reset();
});

async function expectApiError(promise: Promise<unknown>, status: number, text: string): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiError);
  const apiError = error as ApiError;
  expect(apiError.status).toBe(status);
  expect(apiError.message).toContain(text);
  return apiError;
}

describe('files: resumable upload through the SDK', () => {
  it('uploads a PNG and answers the File resource as the real API writes it', async () => {
    const bytes = createSamplePng('upload-one');
    const file = await emulator.client.files.upload({
      file: new Blob([bytes], { type: 'image/png' }),
      config: { mimeType: 'image/png', displayName: 'hero.png' },
    });
    expect(file.name).toMatch(/^files\/[a-z0-9]{12}$/);
    expect(file.displayName).toBe('hero.png');
    expect(file.mimeType).toBe('image/png');
    expect(file.sizeBytes).toBe(String(bytes.length));
    expect(file.state).toBe('ACTIVE');
    expect(file.source).toBe('UPLOADED');
    expect(file.uri).toBe(`${emulator.baseUrl}/v1beta/${file.name}`);
    const hexDigest = createHash('sha256').update(bytes).digest('hex');
    expect(Buffer.from(file.sha256Hash ?? '', 'base64').toString('utf8')).toBe(hexDigest);
    const created = Date.parse(file.createTime ?? '');
    expect(Date.parse(file.expirationTime ?? '') - created).toBe(48 * 3600 * 1000);
    expect(file.createTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  });

  it('uploads from a path in 8 MiB chunks and keeps every byte', async () => {
    const size = 8 * 1024 * 1024 * 2 + 12_345;
    const bytes = Buffer.alloc(size);
    for (let index = 0; index < size; index += 4096) bytes[index] = index % 251;
    const path = join(workDirectory, 'big.jsonl');
    await writeFile(path, bytes);
    const file = await emulator.client.files.upload({ file: path, config: { mimeType: 'application/json' } });
    expect(file.sizeBytes).toBe(String(size));
    expect(Buffer.from(file.sha256Hash ?? '', 'base64').toString('utf8')).toBe(createHash('sha256').update(bytes).digest('hex'));
    const stats = await emulator.stats();
    expect(stats['uploads']).toBe(1);
    expect(stats['uploadedBytes']).toBe(size);
  });

  it('honours a requested file name and refuses it twice', async () => {
    const blob = new Blob([createSamplePng('named')], { type: 'image/png' });
    const file = await emulator.client.files.upload({ file: blob, config: { name: 'my-hero-1', mimeType: 'image/png' } });
    expect(file.name).toBe('files/my-hero-1');
    await expectApiError(emulator.client.files.upload({ file: blob, config: { name: 'my-hero-1', mimeType: 'image/png' } }), 409, 'ALREADY_EXISTS');
  });

  it('answers every x-goog-upload header the SDK reads, and rejects a wrong offset', async () => {
    const start = await emulator.request('/upload/v1beta/files', {
      method: 'POST',
      headers: {
        'x-goog-upload-protocol': 'resumable',
        'x-goog-upload-command': 'start',
        'x-goog-upload-header-content-length': '4',
        'x-goog-upload-header-content-type': 'text/plain',
      },
      body: JSON.stringify({ file: { displayName: 'four' } }),
    });
    expect(start.status).toBe(200);
    expect(start.headers.get('x-goog-upload-status')).toBe('active');
    expect(start.headers.get('x-goog-upload-chunk-granularity')).toBe(String(8 * 1024 * 1024));
    const uploadUrl = new URL(start.headers.get('x-goog-upload-url') ?? '');
    expect(uploadUrl.pathname).toBe('/upload/v1beta/files');
    const wrongOffset = await emulator.request(`${uploadUrl.pathname}${uploadUrl.search}`, {
      method: 'POST',
      headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '2' },
      body: 'abcd',
    });
    expect(wrongOffset.status).toBe(400);
    const finalized = await emulator.request(`${uploadUrl.pathname}${uploadUrl.search}`, {
      method: 'POST',
      headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
      body: 'abcd',
    });
    expect(finalized.headers.get('x-goog-upload-status')).toBe('final');
    const body = (await finalized.json()) as { file: { sizeBytes: string; displayName: string } };
    expect(body.file.sizeBytes).toBe('4');
    expect(body.file.displayName).toBe('four');
  });

  it('keeps no byte of a chunk cut off midway: the resent chunk gives the right size and hash', async () => {
    const start = await emulator.request('/upload/v1beta/files', {
      method: 'POST',
      headers: { 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start', 'x-goog-upload-header-content-length': '4096', 'x-goog-upload-header-content-type': 'application/octet-stream' },
      body: '{}',
    });
    const uploadUrl = start.headers.get('x-goog-upload-url') ?? '';
    const bytes = Buffer.alloc(4096, 7);
    await new Promise<void>((resolve) => {
      const cut = request(uploadUrl, { method: 'POST', headers: { 'x-goog-api-key': 'k', 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0', 'content-length': '4096' } });
      cut.on('error', () => resolve());
      cut.write(bytes.subarray(0, 2000), () => setTimeout(() => cut.destroy(), 20));
      cut.on('close', () => resolve());
    });
    const query = await fetch(uploadUrl, { method: 'POST', headers: { 'x-goog-api-key': 'k', 'x-goog-upload-command': 'query' } });
    expect(query.headers.get('x-goog-upload-size-received')).toBe('0');
    const finalized = await fetch(uploadUrl, { method: 'POST', headers: { 'x-goog-api-key': 'k', 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' }, body: bytes });
    const body = (await finalized.json()) as { file: { sizeBytes: string; sha256Hash: string } };
    expect(body.file.sizeBytes).toBe('4096');
    expect(Buffer.from(body.file.sha256Hash, 'base64').toString('utf8')).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('refuses an upload larger than the file limit', async () => {
    const small = await startTestEmulator({ limits: { maxFileBytes: 100 } });
    try {
      await expectApiError(
        small.client.files.upload({ file: new Blob([Buffer.alloc(101)]), config: { mimeType: 'application/octet-stream' } }),
        400,
        'exceeds the maximum',
      );
    } finally {
      await small.close();
    }
  });
});

describe('files: MIME types the real API has refused for request JSONL', () => {
  it('refuses jsonl at finalize as recorded: 400, the body without details, x-goog-upload-status final; nothing stored', async () => {
    const start = await emulator.request('/upload/v1beta/files', {
      method: 'POST',
      headers: { 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start', 'x-goog-upload-header-content-length': '2', 'x-goog-upload-header-content-type': 'jsonl' },
      body: '{}',
    });
    expect(start.status).toBe(200);
    const uploadUrl = new URL(start.headers.get('x-goog-upload-url') ?? '');
    const chunk = { method: 'POST', headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' }, body: '{}' };
    const refused = await emulator.request(`${uploadUrl.pathname}${uploadUrl.search}`, chunk);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('x-goog-upload-status')).toBe('final');
    expect(await refused.text()).toBe('{"error":{"code":400,"message":"Unsupported MIME type: jsonl","status":"INVALID_ARGUMENT"}}');
    // The session is over: the same upload cannot be sent again.
    expect((await emulator.request(`${uploadUrl.pathname}${uploadUrl.search}`, chunk)).status).toBe(404);
    expect((await emulator.client.files.list({ config: { pageSize: 10 } })).page).toHaveLength(0);
    expect(await emulator.stats()).toMatchObject({ uploads: 0, uploadsRefused: 1, uploadedBytes: 0 });
  });

  it('surfaces through the SDK as an ApiError 400 whose message is the body; application/json goes through', async () => {
    for (const mimeType of ['jsonl', 'application/jsonl', 'application/json-lines']) {
      const error = await expectApiError(emulator.client.files.upload({ file: new Blob(['{}']), config: { mimeType } }), 400, `Unsupported MIME type: ${mimeType}`);
      expect(error.message).toBe(JSON.stringify({ error: { code: 400, message: `Unsupported MIME type: ${mimeType}`, status: 'INVALID_ARGUMENT' } }));
    }
    const accepted = await emulator.client.files.upload({ file: new Blob(['{}']), config: { mimeType: 'application/json' } });
    expect(accepted.mimeType).toBe('application/json');
  });

  it('refuses whatever the quirk lists, application/json included when asked', async () => {
    const strict = await startTestEmulator({ quirks: { refusedUploadMimeTypes: ['application/json'] } });
    try {
      await expectApiError(strict.client.files.upload({ file: new Blob(['{}']), config: { mimeType: 'application/json' } }), 400, 'Unsupported MIME type: application/json');
      expect((await strict.client.files.upload({ file: new Blob(['{}']), config: { mimeType: 'jsonl' } })).mimeType).toBe('jsonl');
    } finally {
      await strict.close();
    }
  });
});

describe('files: get, list, delete', () => {
  it('gets a file by name; an unknown one is 403 PERMISSION_DENIED, as the real Files API answers', async () => {
    const uploaded = await emulator.client.files.upload({ file: new Blob([createSamplePng('get')]), config: { mimeType: 'image/png' } });
    const fetched = await emulator.client.files.get({ name: uploaded.name ?? '' });
    expect(fetched.sha256Hash).toBe(uploaded.sha256Hash);
    await expectApiError(emulator.client.files.get({ name: 'files/doesnotexist' }), 403, 'may not exist');
  });

  it('lists with paging, newest first, every file exactly once', async () => {
    const names: string[] = [];
    for (let index = 0; index < 7; index += 1) {
      const file = await emulator.client.files.upload({ file: new Blob([createSamplePng(`list-${index}`)]), config: { mimeType: 'image/png' } });
      names.push(file.name ?? '');
      emulator.clock.advance(1000);
    }
    const pager = await emulator.client.files.list({ config: { pageSize: 3 } });
    expect(pager.page).toHaveLength(3);
    const seen: string[] = [];
    for await (const file of pager) seen.push(file.name ?? '');
    expect(seen).toEqual([...names].reverse());
    const raw = (await (await emulator.request('/v1beta/files?pageSize=3')).json()) as { files: unknown[]; nextPageToken?: string };
    expect(raw.files).toHaveLength(3);
    expect(typeof raw.nextPageToken).toBe('string');
  });

  it('deletes a file (answering {}), after which it is gone', async () => {
    const file = await emulator.client.files.upload({ file: new Blob([createSamplePng('delete')]), config: { mimeType: 'image/png' } });
    await emulator.client.files.delete({ name: file.name ?? '' });
    await expectApiError(emulator.client.files.get({ name: file.name ?? '' }), 403, 'PERMISSION_DENIED');
    await expectApiError(emulator.client.files.delete({ name: file.name ?? '' }), 403, 'PERMISSION_DENIED');
    const raw = await emulator.request('/v1beta/files/nothing-here', { method: 'DELETE', body: '{}' });
    expect(raw.status).toBe(403);
  });

  it('expires a file 48 hours after creation on the emulator clock', async () => {
    const file = await emulator.client.files.upload({ file: new Blob([createSamplePng('expire')]), config: { mimeType: 'image/png' } });
    emulator.clock.advance(48 * 3600 * 1000 - 1);
    expect((await emulator.client.files.get({ name: file.name ?? '' })).name).toBe(file.name);
    emulator.clock.advance(1);
    await expectApiError(emulator.client.files.get({ name: file.name ?? '' }), 403, 'PERMISSION_DENIED');
    const listed = await emulator.client.files.list({ config: { pageSize: 10 } });
    expect(listed.page).toHaveLength(0);
  });

  it('accepts the v1 prefix as well', async () => {
    const file = await emulator.client.files.upload({ file: new Blob([createSamplePng('v1')]), config: { mimeType: 'image/png' } });
    const response = await emulator.request(`/v1/${file.name ?? ''}`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { uri: string }).uri).toContain('/v1/files/');
  });
});

describe('files: errors in the real envelope', () => {
  it('answers 403 PERMISSION_DENIED without a key, and 400 API_KEY_INVALID for a wrong one when a key is set', async () => {
    const noKey = await fetch(`${emulator.baseUrl}/v1beta/files`);
    expect(noKey.status).toBe(403);
    const body = (await noKey.json()) as { error: { code: number; status: string; message: string } };
    expect(body.error).toMatchObject({ code: 403, status: 'PERMISSION_DENIED' });
    expect(noKey.headers.get('content-type')).toContain('application/json');

    const keyed = await startTestEmulator({ apiKey: 'the-right-key' });
    try {
      const wrong = keyed.createClient({ apiKey: 'a-wrong-key' });
      const error = await expectApiError(wrong.files.list({ config: { pageSize: 1 } }), 400, 'API_KEY_INVALID');
      expect(JSON.parse(error.message)).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
      const right = keyed.createClient({ apiKey: 'the-right-key' });
      await expect(right.files.list({ config: { pageSize: 1 } })).resolves.toBeDefined();
    } finally {
      await keyed.close();
    }
  });

  it('does not serve downloads of uploaded files, only of generated ones', async () => {
    const file = await emulator.client.files.upload({ file: new Blob([createSamplePng('dl')]), config: { mimeType: 'image/png' } });
    const response = await emulator.request(`/v1beta/${file.name ?? ''}:download?alt=media`);
    expect(response.status).toBe(400);
    const missing = await emulator.request('/download/v1beta/files/nope:download?alt=media');
    expect(missing.status).toBe(404);
  });

  it('rejects get of an id over 40 characters, like batch output files on the real API', async () => {
    const response = await emulator.request(`/v1beta/files/batch-${'a'.repeat(36)}`);
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain('cannot be more than 40 characters');
  });
});
