import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectApiErrorWith as expectApiError } from '../support/expect-rejection.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';

// Emulator-only: a cut connection, and what needs an emulator started with its own limits, quirks or key. The files
// contract every backend keeps is in test/contract/cases/files-cases.ts.

let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => {
  await emulator.close();
});
afterEach(async () => {
  await emulator.emulator.reset();
});

describe('files: resumable upload, emulator only', () => {
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

describe('files: the refused MIME types quirk, emulator only', () => {
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

describe('files: errors in the real envelope, emulator only (no key, a keyed emulator)', () => {
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
});
