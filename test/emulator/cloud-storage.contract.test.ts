import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Storage, type Bucket } from '@google-cloud/storage';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';

/** Bytes that are not all alike, so that a chunk out of place changes the hash. */
function patternBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let index = 0; index < length; index += 1) bytes[index] = (index * 31 + seed * 7 + (index >> 10)) & 0xff;
  return bytes;
}

function md5Base64(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('base64');
}

/** What a call through the client was refused with: its error's code (the HTTP status). */
async function expectRejection(promise: Promise<unknown>, expected: { code: number }): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'the call should have been refused').toBeDefined();
  expect((error as { code?: unknown }).code).toBe(expected.code);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * The Cloud Storage JSON API of `chargen emulator`, through the real `@google-cloud/storage` client pointed at the
 * emulator's one base URL (no credentials: the client skips auth on a custom apiEndpoint).
 */
describe('Cloud Storage through @google-cloud/storage', () => {
  let emulator: TestEmulator;
  let bucket: Bucket;
  let workDirectory: string;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    workDirectory = await mkdtemp(join(tmpdir(), 'chargen-storage-'));
    const storage = new Storage({ apiEndpoint: emulator.baseUrl, projectId: 'test', retryOptions: { autoRetry: false } });
    bucket = storage.bucket('chargen-test');
  });
  beforeEach(async () => emulator.emulator.reset());
  afterAll(async () => {
    await emulator.close();
    await rm(workDirectory, { recursive: true, force: true });
  });

  it('stores an object with file.save (multipart) and answers its resource with the real fields', async () => {
    const bytes = Buffer.from('{"request": {"contents": []}}\n');
    const file = bucket.file('shards/one.jsonl');
    await file.save(bytes, { resumable: false, contentType: 'application/jsonl' });
    const [metadata] = await file.getMetadata();
    expect(metadata).toMatchObject({
      kind: 'storage#object',
      name: 'shards/one.jsonl',
      bucket: 'chargen-test',
      id: `chargen-test/shards/one.jsonl/${String(metadata.generation)}`,
      metageneration: '1',
      contentType: 'application/jsonl',
      storageClass: 'STANDARD',
      size: String(bytes.length),
      md5Hash: md5Base64(bytes),
      selfLink: `${emulator.baseUrl}/storage/v1/b/chargen-test/o/shards%2Fone.jsonl`,
      mediaLink: `${emulator.baseUrl}/download/storage/v1/b/chargen-test/o/shards%2Fone.jsonl?generation=${String(metadata.generation)}&alt=media`,
    });
    expect(String(metadata.generation)).toMatch(/^\d{16}$/);
    expect(metadata.crc32c).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    expect(metadata.timeCreated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // download() checks the bytes against the crc32c the answer's X-Goog-Hash gives.
    const [downloaded] = await file.download();
    expect(downloaded.equals(bytes)).toBe(true);
  });

  it('stores with file.save resumable (one streamed request) and with bucket.upload both ways', async () => {
    const small = patternBytes(70_000, 1);
    await bucket.file('resumable.bin').save(small, { resumable: true });
    expect((await bucket.file('resumable.bin').download())[0].equals(small)).toBe(true);
    const localPath = join(workDirectory, 'reference.png');
    await writeFile(localPath, patternBytes(300_000, 2));
    const [simple] = await bucket.upload(localPath, { destination: 'references/simple.png' });
    const [resumable] = await bucket.upload(localPath, { destination: 'references/resumable.png', resumable: true });
    expect(simple.metadata.contentType).toBe('image/png');
    expect(resumable.metadata.md5Hash).toBe(simple.metadata.md5Hash);
    expect(resumable.metadata.size).toBe(300_000);
  });

  it('takes a resumable upload of a few MB in 512 KiB chunks (308 and Range between them) and reads parts back', async () => {
    const bytes = patternBytes(3 * 1024 * 1024 + 12_345, 3);
    const file = bucket.file('shards/big.jsonl');
    await pipeline(Readable.from([bytes.subarray(0, 1_000_000), bytes.subarray(1_000_000)]), file.createWriteStream({ resumable: true, chunkSize: 512 * 1024 }));
    const [metadata] = await file.getMetadata();
    expect(metadata.size).toBe(String(bytes.length));
    expect(metadata.md5Hash).toBe(md5Base64(bytes));
    expect((await readAll(file.createReadStream())).equals(bytes)).toBe(true);
    const part = await readAll(file.createReadStream({ start: 1_048_570, end: 1_048_600 }));
    expect(part.equals(bytes.subarray(1_048_570, 1_048_601))).toBe(true);
  });

  it('lists with prefix and delimiter, page by page with maxResults and pageToken', async () => {
    for (const name of ['run/a/1.jsonl', 'run/a/2.jsonl', 'run/b/1.jsonl', 'run/c.jsonl', 'run/d.jsonl', 'other/x.jsonl']) {
      await bucket.file(name).save(Buffer.from(name), { resumable: false });
    }
    const [first, nextQuery, firstResponse] = await bucket.getFiles({ prefix: 'run/', delimiter: '/', maxResults: 3, autoPaginate: false });
    expect(first.map((file) => file.name)).toEqual(['run/c.jsonl']);
    expect((firstResponse as { prefixes?: string[] }).prefixes).toEqual(['run/a/', 'run/b/']);
    expect(nextQuery).toMatchObject({ prefix: 'run/', delimiter: '/', pageToken: expect.any(String) });
    const [second, lastQuery, secondResponse] = await bucket.getFiles({ ...nextQuery, autoPaginate: false });
    expect(second.map((file) => file.name)).toEqual(['run/d.jsonl']);
    expect((secondResponse as { prefixes?: string[] }).prefixes).toBeUndefined();
    expect(lastQuery).toBeNull();
    // One entry a page: a page ending on a folder resumes after everything in it.
    const entries: string[] = [];
    let query: object | null = { prefix: 'run/', delimiter: '/', maxResults: 1, autoPaginate: false };
    while (query) {
      const [files, next, response]: [{ name: string }[], object | null, unknown] = await bucket.getFiles(query);
      entries.push(...((response as { prefixes?: string[] }).prefixes ?? []), ...files.map((file) => file.name));
      query = next;
    }
    expect(entries).toEqual(['run/a/', 'run/b/', 'run/c.jsonl', 'run/d.jsonl']);
    const [all] = await bucket.getFiles({ prefix: 'run/' });
    expect(all.map((file) => file.name)).toEqual(['run/a/1.jsonl', 'run/a/2.jsonl', 'run/b/1.jsonl', 'run/c.jsonl', 'run/d.jsonl']);
  });

  it('deletes an object, after which it is gone (404)', async () => {
    const file = bucket.file('to-delete.txt');
    await file.save('bye', { resumable: false });
    await file.delete();
    expect((await file.exists())[0]).toBe(false);
    await expectRejection(file.delete(), { code: 404 });
    await expectRejection(file.download(), { code: 404 });
  });

  it('creates only once with ifGenerationMatch: 0: the second save is refused with 412 and the first object stays', async () => {
    for (const resumable of [false, true]) {
      const file = bucket.file(`references/${String(resumable)}.png`);
      await file.save(Buffer.from('first'), { resumable, preconditionOpts: { ifGenerationMatch: 0 } });
      await expectRejection(file.save(Buffer.from('second'), { resumable, preconditionOpts: { ifGenerationMatch: 0 } }), { code: 412 });
      expect((await file.download())[0].toString()).toBe('first');
    }
  });

  it('lets exactly one of two create-only writers in at once win, the other refused with 412', async () => {
    const file = bucket.file('references/race.png');
    const outcomes = await Promise.allSettled([
      file.save(patternBytes(600_000, 4), { resumable: true, preconditionOpts: { ifGenerationMatch: 0 } }),
      file.save(patternBytes(600_000, 5), { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }),
    ]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((outcome) => outcome.status === 'rejected');
    expect((refused?.reason as { code?: number } | undefined)?.code).toBe(412);
    expect(await emulator.stats()).toMatchObject({ storage: { objects: 1, bytes: 600_000 } });
  });
});
