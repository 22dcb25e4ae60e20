import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { faultConfigSchema } from '../../emulator/fault-config.ts';
import { objectEtag } from '../../emulator/storage/object-resource.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';

/**
 * What the client hides of the Cloud Storage wire, held to what was recorded of the real service or written in
 * Google's pages: the resumable protocol's 308 and Range, the error envelopes, the JSON layout, the etag.
 */
describe('the Cloud Storage wire', () => {
  let emulator: TestEmulator;
  let base = '';
  beforeAll(async () => {
    emulator = await startTestEmulator();
    base = emulator.baseUrl;
  });
  beforeEach(async () => emulator.emulator.reset());
  afterAll(async () => emulator.close());

  const startSession = async (name: string, query = '') => {
    const answer = await fetch(`${base}/upload/storage/v1/b/wire/o?uploadType=resumable${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, contentType: 'application/jsonl' }),
    });
    expect(answer.status).toBe(200);
    return answer.headers.get('location') ?? '';
  };
  const put = (location: string, range: string, body?: Buffer) =>
    fetch(location, { method: 'PUT', headers: { 'content-range': range }, ...(body ? { body } : {}) });

  it('answers a resumable session with 308 and the Range it kept, whole 256 KiB units of a non-final chunk', async () => {
    const location = await startSession('shards/a.jsonl');
    expect(location).toMatch(new RegExp(`^${base}/upload/storage/v1/b/wire/o\\?uploadType=resumable&name=shards%2Fa\\.jsonl&upload_id=\\w+$`));
    const empty = await put(location, 'bytes */*');
    expect(empty.status).toBe(308);
    expect(empty.headers.get('range')).toBeNull();
    const bytes = Buffer.alloc(400_000, 1);
    const first = await put(location, 'bytes 0-299999/*', bytes.subarray(0, 300_000));
    expect([first.status, first.headers.get('range')]).toEqual([308, 'bytes=0-262143']);
    const status = await put(location, 'bytes */*');
    expect([status.status, status.headers.get('range')]).toEqual([308, 'bytes=0-262143']);
    // The client resends from where the Range ended.
    const last = await put(location, 'bytes 262144-399999/400000', bytes.subarray(262_144));
    expect(last.status).toBe(200);
    const object = (await last.json()) as { size: string; generation: string; name: string; etag: string };
    expect(object).toMatchObject({ size: '400000', name: 'shards/a.jsonl' });
    expect(last.headers.get('etag')).toBe(object.etag);
    // A session already complete answers its object again.
    const again = (await (await put(location, 'bytes */400000')).json()) as { generation: string };
    expect(again.generation).toBe(object.generation);
    const cancelled = await fetch(await startSession('shards/b.jsonl'), { method: 'DELETE' });
    expect(cancelled.status).toBe(499);
  });

  it('takes uploadType=media and lays JSON out as the service does (two spaces, a final line feed)', async () => {
    const answer = await fetch(`${base}/upload/storage/v1/b/wire/o?uploadType=media&name=notes.txt`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    const text = await answer.text();
    expect(answer.status).toBe(200);
    expect(text).toMatch(/^\{\n {2}"kind": "storage#object",\n {2}"id": "wire\/notes\.txt\/\d+",\n/);
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toMatchObject({ contentType: 'text/plain', size: '5', md5Hash: 'XUFAKrxLKna5cZ2REBfFkg==', crc32c: 'mnG7TA==' });
    expect(await (await fetch(`${base}/storage/v1/b/wire/o?prefix=none/`)).text()).toBe('{\n  "kind": "storage#objects"\n}\n');
  });

  it('answers errors in the JSON API envelope, and an alt=media miss in plain words', async () => {
    const missing = await fetch(`${base}/storage/v1/b/wire/o/gone.txt`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: { code: 404, message: 'No such object: wire/gone.txt', errors: [{ message: 'No such object: wire/gone.txt', domain: 'global', reason: 'notFound' }] },
    });
    const media = await fetch(`${base}/storage/v1/b/wire/o/gone.txt?alt=media`);
    expect([media.status, media.headers.get('content-type'), await media.text()]).toEqual([404, 'text/html; charset=UTF-8', 'No such object: wire/gone.txt']);
    const create = () => fetch(`${base}/upload/storage/v1/b/wire/o?uploadType=media&name=once.txt&ifGenerationMatch=0`, { method: 'POST', body: 'x' });
    expect((await create()).status).toBe(200);
    const refused = await create();
    expect(refused.status).toBe(412);
    const message = 'At least one of the pre-conditions you specified did not hold.';
    expect(await refused.json()).toEqual({ error: { code: 412, message, errors: [{ message, domain: 'global', reason: 'conditionNotMet' }] } });
    const deleted = await fetch(`${base}/storage/v1/b/wire/o/once.txt`, { method: 'DELETE' });
    expect([deleted.status, await deleted.text()]).toEqual([204, '']);
  });

  it('injects faults on the storage endpoints in the JSON API envelope, and counts what it holds', async () => {
    await fetch(`${base}/upload/storage/v1/b/wire/o?uploadType=media&name=kept.bin`, { method: 'POST', body: Buffer.alloc(1234) });
    emulator.emulator.setFaults(faultConfigSchema.parse({ endpoints: { 'storage.objects.list': { rate503: 1 } } }));
    const refused = await fetch(`${base}/storage/v1/b/wire/o`);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: { code: 503, errors: [{ domain: 'global', reason: 'backendError' }] } });
    expect((await fetch(`${base}/storage/v1/b/wire/o/kept.bin`)).status).toBe(200);
    expect(await emulator.stats()).toMatchObject({ storage: { objects: 1, bytes: 1234 }, faultsInjected: { '503:storage.objects.list': 1 } });
  });

  it('cuts the next alt=media read under cutDownloads: its headers whole, half its body, then the connection; the read after is whole', async () => {
    const bytes = Buffer.alloc(200_000, 7);
    await fetch(`${base}/upload/storage/v1/b/wire/o?uploadType=media&name=results.jsonl`, { method: 'POST', body: bytes });
    emulator.emulator.setFaults(faultConfigSchema.parse({ cutDownloads: 1 }));
    const cut = await fetch(`${base}/storage/v1/b/wire/o/results.jsonl?alt=media`);
    expect([cut.status, cut.headers.get('content-length')]).toEqual([200, String(bytes.length)]);
    await expect(cut.arrayBuffer()).rejects.toThrow(/terminated/);
    const whole = await fetch(`${base}/storage/v1/b/wire/o/results.jsonl?alt=media`, { headers: { range: 'bytes=100000-' } });
    expect([whole.status, Buffer.from(await whole.arrayBuffer()).equals(bytes.subarray(100_000))]).toEqual([206, true]);
    expect(await emulator.stats()).toMatchObject({ objectDownloads: 2, faultsInjected: { downloadCut: 1 } });
  });

  it('writes the etag as the service does: base64 of the protobuf of generation and metageneration', () => {
    // Recorded: generation 1790789164648913 at metagenerations 2 and 3.
    expect(objectEtag(1_790_789_164_648_913, 2)).toBe('CNGTm8DplpcDEAI=');
    expect(objectEtag(1_790_789_164_648_913, 3)).toBe('CNGTm8DplpcDEAM=');
    expect(objectEtag(1, 1)).toBe('CAEQAQ==');
  });
});
