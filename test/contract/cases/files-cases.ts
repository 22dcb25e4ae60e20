import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { expectApiErrorWith as expectApiError } from '../../support/expect-rejection.ts';
import { createSamplePng } from '../../support/sample-images.ts';
import type { DefineContractCase } from '../test-gemini-backend.ts';

// Moved from test/emulator/files.contract.test.ts; what needs a second emulator or a cut connection stays there.
export function defineFilesCases(contractCase: DefineContractCase): void {
  describe('files: resumable upload through the SDK', () => {
    contractCase('uploads a PNG and answers the File resource as the real API writes it', [], async (backend) => {
      const bytes = createSamplePng('upload-one');
      const file = await backend.client.files.upload({
        file: new Blob([bytes], { type: 'image/png' }),
        config: { mimeType: 'image/png', displayName: 'hero.png' },
      });
      expect(file.name).toMatch(/^files\/[a-z0-9]{12}$/);
      expect(file.displayName).toBe('hero.png');
      expect(file.mimeType).toBe('image/png');
      expect(file.sizeBytes).toBe(String(bytes.length));
      expect(file.state).toBe('ACTIVE');
      expect(file.source).toBe('UPLOADED');
      expect(file.uri).toBe(`${backend.publicBaseUrl}/v1beta/${file.name}`);
      const hexDigest = createHash('sha256').update(bytes).digest('hex');
      expect(Buffer.from(file.sha256Hash ?? '', 'base64').toString('utf8')).toBe(hexDigest);
      const created = Date.parse(file.createTime ?? '');
      // Recorded (files-crud.json): expirationTime 0.22 s short of createTime + 48 h; the emulator gives exactly 48 h.
      const lifetime = Date.parse(file.expirationTime ?? '') - created;
      expect(lifetime).toBeGreaterThan(48 * 3600 * 1000 - 5000);
      expect(lifetime).toBeLessThanOrEqual(48 * 3600 * 1000);
      // Recorded (files-crud.json): microseconds in createTime and updateTime, nanoseconds in expirationTime.
      expect(file.createTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(file.updateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(file.expirationTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      await backend.client.files.delete({ name: file.name ?? '' });
    });

    contractCase('uploads from a path in 8 MiB chunks and keeps every byte', ['unmetered'], async (backend) => {
      const workDirectory = await mkdtemp(join(tmpdir(), 'chargen-files-test-'));
      try {
        const size = 8 * 1024 * 1024 * 2 + 12_345;
        const bytes = Buffer.alloc(size);
        for (let index = 0; index < size; index += 4096) bytes[index] = index % 251;
        const path = join(workDirectory, 'big.jsonl');
        await writeFile(path, bytes);
        const file = await backend.client.files.upload({ file: path, config: { mimeType: 'application/json' } });
        expect(file.sizeBytes).toBe(String(size));
        expect(Buffer.from(file.sha256Hash ?? '', 'base64').toString('utf8')).toBe(createHash('sha256').update(bytes).digest('hex'));
        if (backend.stats) {
          const stats = await backend.stats();
          expect(stats['uploads']).toBe(1);
          expect(stats['uploadedBytes']).toBe(size);
        }
      } finally {
        await rm(workDirectory, { recursive: true, force: true });
      }
    });

    contractCase('honours a requested file name and refuses it twice', ['fresh-state'], async (backend) => {
      const blob = new Blob([createSamplePng('named')], { type: 'image/png' });
      const file = await backend.client.files.upload({ file: blob, config: { name: 'my-hero-1', mimeType: 'image/png' } });
      expect(file.name).toBe('files/my-hero-1');
      await expectApiError(backend.client.files.upload({ file: blob, config: { name: 'my-hero-1', mimeType: 'image/png' } }), 409, 'ALREADY_EXISTS');
    });

    contractCase('answers every x-goog-upload header the SDK reads, and rejects a wrong offset', ['unmetered'], async (backend) => {
      const start = await backend.request('/upload/v1beta/files', {
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
      const wrongOffset = await backend.request(`${uploadUrl.pathname}${uploadUrl.search}`, {
        method: 'POST',
        headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '2' },
        body: 'abcd',
      });
      expect(wrongOffset.status).toBe(400);
      const finalized = await backend.request(`${uploadUrl.pathname}${uploadUrl.search}`, {
        method: 'POST',
        headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
        body: 'abcd',
      });
      expect(finalized.headers.get('x-goog-upload-status')).toBe('final');
      const body = (await finalized.json()) as { file: { sizeBytes: string; displayName: string } };
      expect(body.file.sizeBytes).toBe('4');
      expect(body.file.displayName).toBe('four');
    });
  });

  describe('files: MIME types the real API has refused for request JSONL', () => {
    contractCase('refuses jsonl at finalize as recorded: 400, the body without details, x-goog-upload-status final; nothing stored', ['fresh-state', 'unmetered'], async (backend) => {
      const start = await backend.request('/upload/v1beta/files', {
        method: 'POST',
        headers: { 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start', 'x-goog-upload-header-content-length': '2', 'x-goog-upload-header-content-type': 'jsonl' },
        body: '{}',
      });
      expect(start.status).toBe(200);
      const uploadUrl = new URL(start.headers.get('x-goog-upload-url') ?? '');
      const chunk = { method: 'POST', headers: { 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' }, body: '{}' };
      const refused = await backend.request(`${uploadUrl.pathname}${uploadUrl.search}`, chunk);
      expect(refused.status).toBe(400);
      expect(refused.headers.get('x-goog-upload-status')).toBe('final');
      expect(await refused.text()).toBe('{"error":{"code":400,"message":"Unsupported MIME type: jsonl","status":"INVALID_ARGUMENT"}}');
      // The session is over: the same upload cannot be sent again.
      expect((await backend.request(`${uploadUrl.pathname}${uploadUrl.search}`, chunk)).status).toBe(404);
      expect((await backend.client.files.list({ config: { pageSize: 10 } })).page).toHaveLength(0);
      if (backend.stats) expect(await backend.stats()).toMatchObject({ uploads: 0, uploadsRefused: 1, uploadedBytes: 0 });
    });

    contractCase('surfaces through the SDK as an ApiError 400 whose message is the body; application/json goes through', ['unmetered'], async (backend) => {
      for (const mimeType of ['jsonl', 'application/jsonl', 'application/json-lines']) {
        const error = await expectApiError(backend.client.files.upload({ file: new Blob(['{}']), config: { mimeType } }), 400, `Unsupported MIME type: ${mimeType}`);
        expect(error.message).toBe(JSON.stringify({ error: { code: 400, message: `Unsupported MIME type: ${mimeType}`, status: 'INVALID_ARGUMENT' } }));
      }
      const accepted = await backend.client.files.upload({ file: new Blob(['{}']), config: { mimeType: 'application/json' } });
      expect(accepted.mimeType).toBe('application/json');
    });
  });

  describe('files: get, list, delete', () => {
    contractCase('gets a file by name; an unknown one is 403 PERMISSION_DENIED, as the real Files API answers', [], async (backend) => {
      const uploaded = await backend.client.files.upload({ file: new Blob([createSamplePng('get')]), config: { mimeType: 'image/png' } });
      const fetched = await backend.client.files.get({ name: uploaded.name ?? '' });
      expect(fetched.sha256Hash).toBe(uploaded.sha256Hash);
      await expectApiError(backend.client.files.get({ name: 'files/doesnotexist' }), 403, 'may not exist');
      await backend.client.files.delete({ name: uploaded.name ?? '' });
    });

    contractCase('lists with paging, newest first, every file exactly once', ['fresh-state', 'clock', 'unmetered'], async (backend) => {
      const names: string[] = [];
      for (let index = 0; index < 7; index += 1) {
        const file = await backend.client.files.upload({ file: new Blob([createSamplePng(`list-${index}`)]), config: { mimeType: 'image/png' } });
        names.push(file.name ?? '');
        await backend.advanceClock(1000);
      }
      const pager = await backend.client.files.list({ config: { pageSize: 3 } });
      expect(pager.page).toHaveLength(3);
      const seen: string[] = [];
      for await (const file of pager) seen.push(file.name ?? '');
      expect(seen).toEqual([...names].reverse());
      const raw = (await (await backend.request('/v1beta/files?pageSize=3')).json()) as { files: unknown[]; nextPageToken?: string };
      expect(raw.files).toHaveLength(3);
      expect(typeof raw.nextPageToken).toBe('string');
    });

    contractCase('deletes a file (answering {}), after which it is gone', [], async (backend) => {
      const file = await backend.client.files.upload({ file: new Blob([createSamplePng('delete')]), config: { mimeType: 'image/png' } });
      await backend.client.files.delete({ name: file.name ?? '' });
      await expectApiError(backend.client.files.get({ name: file.name ?? '' }), 403, 'PERMISSION_DENIED');
      await expectApiError(backend.client.files.delete({ name: file.name ?? '' }), 403, 'PERMISSION_DENIED');
      const raw = await backend.request('/v1beta/files/nothing-here', { method: 'DELETE', body: '{}' });
      expect(raw.status).toBe(403);
    });

    contractCase('counts the uploaded bytes held, and the most held at once, in its stats', ['unmetered', 'fresh-state'], async (backend) => {
      if (!backend.stats) return;
      const first = await backend.client.files.upload({ file: new Blob([createSamplePng('held-1')]), config: { mimeType: 'image/png' } });
      const second = await backend.client.files.upload({ file: new Blob([createSamplePng('held-2')]), config: { mimeType: 'image/png' } });
      const both = Number(first.sizeBytes) + Number(second.sizeBytes);
      await backend.client.files.delete({ name: first.name ?? '' });
      // A second delete of the same file is refused, and must not count its bytes off twice.
      await expectApiError(backend.client.files.delete({ name: first.name ?? '' }), 403, 'PERMISSION_DENIED');
      expect(await backend.stats()).toMatchObject({ uploadedBytesHeld: Number(second.sizeBytes), peakUploadedBytesHeld: both });
    });

    contractCase('expires a file 48 hours after creation on the emulator clock', ['clock', 'fresh-state'], async (backend) => {
      const file = await backend.client.files.upload({ file: new Blob([createSamplePng('expire')]), config: { mimeType: 'image/png' } });
      await backend.advanceClock(48 * 3600 * 1000 - 1);
      expect((await backend.client.files.get({ name: file.name ?? '' })).name).toBe(file.name);
      await backend.advanceClock(1);
      await expectApiError(backend.client.files.get({ name: file.name ?? '' }), 403, 'PERMISSION_DENIED');
      const listed = await backend.client.files.list({ config: { pageSize: 10 } });
      expect(listed.page).toHaveLength(0);
    });

    contractCase('accepts the v1 prefix as well', ['unmetered'], async (backend) => {
      const file = await backend.client.files.upload({ file: new Blob([createSamplePng('v1')]), config: { mimeType: 'image/png' } });
      const response = await backend.request(`/v1/${file.name ?? ''}`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { uri: string }).uri).toContain('/v1/files/');
    });
  });

  describe('files: errors in the real envelope', () => {
    contractCase('does not serve downloads of uploaded files, only of generated ones', ['unmetered'], async (backend) => {
      const file = await backend.client.files.upload({ file: new Blob([createSamplePng('dl')]), config: { mimeType: 'image/png' } });
      const response = await backend.request(`/v1beta/${file.name ?? ''}:download?alt=media`);
      expect(response.status).toBe(400);
      const missing = await backend.request('/download/v1beta/files/nope:download?alt=media');
      expect(missing.status).toBe(404);
    });

    contractCase('rejects get of an id over 40 characters, like batch output files on the real API', ['unmetered'], async (backend) => {
      const response = await backend.request(`/v1beta/files/batch-${'a'.repeat(36)}`);
      expect(response.status).toBe(400);
      expect(JSON.stringify(await response.json())).toContain('cannot be more than 40 characters');
    });
  });
}
