import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVertexClient } from '../support/create-vertex-client.ts';
import { expectApiErrorWith } from '../support/expect-rejection.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';

let emulator: TestEmulator;
let storage: Storage;

beforeAll(async () => {
  emulator = await startTestEmulator({ buckets: ['chargen-vertex'] });
  storage = new Storage({ apiEndpoint: emulator.baseUrl, projectId: 'test-project', retryOptions: { autoRetry: false } });
});
afterAll(async () => emulator.close());

/** What a call through the Storage client was refused with: its code and message. */
async function refusal(promise: Promise<unknown>): Promise<{ code?: unknown; message?: unknown }> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error, 'the call should have been refused').toBeDefined();
  return error as { code?: unknown; message?: unknown };
}

describe('Cloud Storage buckets.get through @google-cloud/storage', () => {
  it('answers the bucket resource of a bucket that exists, as the JSON API writes it', async () => {
    const [metadata] = await storage.bucket('chargen-vertex').getMetadata();
    expect(metadata).toMatchObject({ kind: 'storage#bucket', id: 'chargen-vertex', name: 'chargen-vertex', location: 'US-CENTRAL1', locationType: 'region', storageClass: 'STANDARD', metageneration: '1', etag: 'CAE=' });
    expect(metadata.timeCreated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(await storage.bucket('chargen-vertex').exists()).toEqual([true]);
  });

  it('answers 404 in the JSON API envelope for a bucket that does not exist, and for its objects', async () => {
    const missing = storage.bucket('no-such-bucket');
    expect(await refusal(missing.getMetadata())).toMatchObject({ code: 404, message: 'The specified bucket does not exist.' });
    expect(await missing.exists()).toEqual([false]);
    expect(await refusal(missing.file('a.txt').save('x', { resumable: false }))).toMatchObject({ code: 404 });
    expect(await refusal(missing.getFiles())).toMatchObject({ code: 404 });
    const raw = await fetch(`${emulator.baseUrl}/storage/v1/b/no-such-bucket`);
    expect(raw.status).toBe(404);
    expect(await raw.json()).toEqual({
      error: { code: 404, message: 'The specified bucket does not exist.', errors: [{ message: 'The specified bucket does not exist.', domain: 'global', reason: 'notFound' }] },
    });
  });

  it('takes every bucket as existing when the emulator names none (chargen emulator)', async () => {
    const open = await startTestEmulator();
    try {
      const [metadata] = await new Storage({ apiEndpoint: open.baseUrl, projectId: 'test-project' }).bucket('any-bucket').getMetadata();
      expect(metadata.name).toBe('any-bucket');
    } finally {
      await open.close();
    }
  });
});

describe('Vertex AI models.get and models.list through @google/genai (vertexai: true)', () => {
  it('answers a catalog model as a publisher model, without project or location in the path', async () => {
    const model = await createVertexClient(emulator.baseUrl).models.get({ model: 'gemini-3-flash-preview' });
    expect(model).toMatchObject({ name: 'publishers/google/models/gemini-3-flash-preview', version: 'default' });
  });

  it('answers 404 NOT_FOUND for a model Vertex AI does not serve', async () => {
    const error = await expectApiErrorWith(createVertexClient(emulator.baseUrl).models.get({ model: 'gemini-9-ultra' }), 404, 'Publisher Model `publishers/google/models/gemini-9-ultra` is not found.');
    expect(error.message).toContain('NOT_FOUND');
  });

  it('refuses a call without a bearer token, as Vertex AI does', async () => {
    const raw = await fetch(`${emulator.baseUrl}/v1beta1/publishers/google/models/gemini-3-flash-preview`);
    expect(raw.status).toBe(401);
  });

  it('lists the catalog as publisher models', async () => {
    const names: string[] = [];
    for await (const model of await createVertexClient(emulator.baseUrl).models.list({ config: { pageSize: 100 } })) names.push(model.name ?? '');
    expect(names).toContain('publishers/google/models/gemini-3-pro-image');
    expect(names.every((name) => name.startsWith('publishers/google/models/'))).toBe(true);
  });
});
