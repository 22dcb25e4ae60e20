import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Storage } from '@google-cloud/storage';
import { beforeAll, describe, expect, it } from 'vitest';
import { GeminiCallError } from '../../lib/errors.ts';
import { deleteObjectIfPresent, deleteObjectsUnder, resumableAboveBytes, uploadObjectOnce } from '../../lib/vertex/upload-object.ts';
import type { EmulatorAdmin } from '../support/emulator-admin.ts';
import { startDroppingProxy } from '../support/start-dropping-proxy.ts';
import type { TestEmulator } from '../support/start-test-emulator.ts';
import { createCountingRetry, openTestStorage, useStorageEmulator } from '../support/use-storage-emulator.ts';

const bucketName = 'chargen-vertex';

/** Bytes that differ along the file, so a chunk out of place shows in the md5. */
function patternBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let index = 0; index < length; index += 1) bytes[index] = (index * 31 + seed * 7 + (index >> 10)) & 0xff;
  return bytes;
}

const suite = useStorageEmulator();
let emulator: TestEmulator;
let admin: EmulatorAdmin;
let storage: Storage;
let directory: string;
beforeAll(() => ({ emulator, admin, storage, directory } = suite));

async function writeLocal(name: string, bytes: Buffer): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, bytes);
  return path;
}

async function readGeneration(objectName: string): Promise<string> {
  const [metadata] = await storage.bucket(bucketName).file(objectName).getMetadata();
  return String(metadata.generation);
}

describe('uploadObjectOnce through @google-cloud/storage', () => {
  it('creates a small object in one request, and the second upload of the same name is a 412 taken as done', async () => {
    const bytes = patternBytes(70_000, 1);
    const path = await writeLocal('small.png', bytes);
    const retry = createCountingRetry();
    const upload = () => uploadObjectOnce({ storage, bucket: bucketName, objectName: 'refs/small', path, mimeType: 'image/png', retry });
    expect(await upload()).toEqual({ status: 'created', uri: `gs://${bucketName}/refs/small`, sizeBytes: 70_000 });
    const generation = await readGeneration('refs/small');
    expect(await upload()).toEqual({ status: 'existing', uri: `gs://${bucketName}/refs/small`, sizeBytes: 70_000 });
    expect(await readGeneration('refs/small')).toBe(generation);
    const [metadata] = await storage.bucket(bucketName).file('refs/small').getMetadata();
    expect(metadata).toMatchObject({ contentType: 'image/png', size: '70000', md5Hash: createHash('md5').update(bytes).digest('base64') });
    expect(retry.waits()).toBe(0);
    expect(await admin.readStats()).toMatchObject({ objectsWritten: 1, storage: { objects: 1, bytes: 70_000 } });
  });

  it('sends a file over 8 MiB through a resumable session, whole, and a second time is a 412 too', async () => {
    const bytes = patternBytes(resumableAboveBytes + 300_000, 2);
    const path = await writeLocal('large.bin', bytes);
    const upload = () => uploadObjectOnce({ storage, bucket: bucketName, objectName: 'refs/large', path, mimeType: 'image/png', retry: createCountingRetry() });
    expect((await upload()).status).toBe('created');
    expect((await upload()).status).toBe('existing');
    const [metadata] = await storage.bucket(bucketName).file('refs/large').getMetadata();
    expect(metadata.md5Hash).toBe(createHash('md5').update(bytes).digest('base64'));
  });

  it('refuses, without retrying, a name another file of another size holds', async () => {
    await storage.bucket(bucketName).file('refs/taken').save(Buffer.from('someone else'), { resumable: false });
    const path = await writeLocal('mine.png', patternBytes(5_000, 3));
    const retry = createCountingRetry();
    const error = await uploadObjectOnce({ storage, bucket: bucketName, objectName: 'refs/taken', path, mimeType: 'image/png', retry }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GeminiCallError);
    expect(error).toMatchObject({ status: 412, isRetryable: false });
    expect((error as Error).message).toContain(`gs://${bucketName}/refs/taken exists already with other bytes (12 bytes, crc32c`);
    expect(retry.waits()).toBe(0);
  });

  it('refuses a name held by other bytes of the same size (a write the client could not undo), judged by crc32c', async () => {
    const mine = patternBytes(5_000, 4);
    const theirs = Buffer.from(mine);
    theirs[100] = (theirs[100] ?? 0) ^ 0xff;
    await storage.bucket(bucketName).file('refs/same-size').save(theirs, { resumable: false });
    const path = await writeLocal('same-size.png', mine);
    const error = await uploadObjectOnce({ storage, bucket: bucketName, objectName: 'refs/same-size', path, mimeType: 'image/png', retry: createCountingRetry() }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 412, isRetryable: false });
    expect((error as Error).message).toContain('exists already with other bytes (5000 bytes');
  });

  it('tries again after a 503 or a 429 to the first attempt, in one request or a resumable session', async () => {
    const cases = [
      { name: 'small-503', size: 40_000, fault: { rate503: 1 } },
      { name: 'small-429', size: 40_000, fault: { rate429: 1 } },
      { name: 'large-503', size: resumableAboveBytes + 1, fault: { rate503: 1 } },
    ];
    for (const { name, size, fault } of cases) {
      const path = await writeLocal(`${name}.bin`, patternBytes(size, 4));
      await admin.replaceFaults({ endpoints: { 'storage.objects.insert': fault } });
      const retry = createCountingRetry({ admin, clearFaults: true });
      expect(await uploadObjectOnce({ storage, bucket: bucketName, objectName: `refs/${name}`, path, mimeType: 'application/octet-stream', retry }), name).toMatchObject({ status: 'created', sizeBytes: size });
      expect(retry.waits(), name).toBe(1);
    }
  });

  it('gives up on an answer cut part-way (the client would wait forever) and tries again', async () => {
    // The multipart POST lands before its answer is cut: the retry meets the 412 and finds the object whole. A
    // resumable session's start is cut before any byte went up: the retry creates it (its PUTs go to the session's
    // own URI, past this proxy).
    const cases = [
      { size: 40_000, status: 'existing' },
      { size: resumableAboveBytes + 1, status: 'created' },
    ];
    for (const { size, status } of cases) {
      const path = await writeLocal(`cut-${size}.bin`, patternBytes(size, 6));
      let posts = 0;
      const proxy = await startDroppingProxy({ target: emulator.baseUrl, cuts: (request) => request.method === 'POST' && (posts += 1) === 1 });
      try {
        const retry = createCountingRetry();
        const uploaded = await uploadObjectOnce({ storage: openTestStorage(proxy.baseUrl), bucket: bucketName, objectName: `refs/cut-${size}`, path, mimeType: 'image/png', retry, idleTimeoutMilliseconds: 1_000 });
        expect(uploaded, String(size)).toMatchObject({ status, sizeBytes: size });
        expect([proxy.cuts(), retry.waits()], String(size)).toEqual([1, 1]);
        const [metadata] = await storage.bucket(bucketName).file(`refs/cut-${size}`).getMetadata();
        expect(metadata.size, String(size)).toBe(String(size));
      } finally {
        await proxy.close();
      }
    }
  });

  it('tries again after a connection dropped before any answer', async () => {
    const path = await writeLocal('dropped.png', patternBytes(20_000, 7));
    let posts = 0;
    const proxy = await startDroppingProxy({ target: emulator.baseUrl, drops: (request) => request.method === 'POST' && (posts += 1) === 1 });
    try {
      const retry = createCountingRetry();
      expect(await uploadObjectOnce({ storage: openTestStorage(proxy.baseUrl), bucket: bucketName, objectName: 'refs/dropped', path, mimeType: 'image/png', retry })).toMatchObject({ status: 'created' });
      expect([posts, retry.waits()]).toEqual([2, 1]);
    } finally {
      await proxy.close();
    }
  });

  it('gives up after the policy’s attempts with a retryable error carrying the status', async () => {
    const path = await writeLocal('never.png', patternBytes(1_000, 5));
    await admin.replaceFaults({ endpoints: { 'storage.objects.insert': { rate503: 1 } } });
    const retry = createCountingRetry();
    const error = await uploadObjectOnce({ storage, bucket: bucketName, objectName: 'refs/never', path, mimeType: 'image/png', retry }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 503, isRetryable: true });
    expect(retry.waits()).toBe(3);
  });
});

describe('deleting objects', () => {
  it('deletes an object, and one already gone is fine', async () => {
    await storage.bucket(bucketName).file('refs/old').save('old', { resumable: false });
    const retry = createCountingRetry();
    expect(await deleteObjectIfPresent({ storage, bucket: bucketName, objectName: 'refs/old', retry })).toBe('deleted');
    expect(await deleteObjectIfPresent({ storage, bucket: bucketName, objectName: 'refs/old', retry })).toBe('gone');
    expect((await storage.bucket(bucketName).file('refs/old').exists())[0]).toBe(false);
  });

  it('deletes everything under a prefix page by page, through faults, and nothing beside it', async () => {
    const bucket = storage.bucket(bucketName);
    const names = Array.from({ length: 7 }, (_, index) => `chargen/w1/results/analyze/job-${index}/predictions.jsonl`);
    for (const name of [...names, 'chargen/w1-other/keep.jsonl', 'chargen/w2/keep.jsonl']) await bucket.file(name).save(name, { resumable: false });
    await admin.replaceFaults({ endpoints: { 'storage.objects.list': { rate503: 1 }, 'storage.objects.delete': { rate503: 1 } } });
    const retry = createCountingRetry({ admin, clearFaults: true });
    expect(await deleteObjectsUnder({ storage, bucket: bucketName, prefix: 'chargen/w1/', retry, pageSize: 3, concurrency: 2 })).toEqual({ deleted: 7, gone: 0, failed: [] });
    expect(retry.waits()).toBeGreaterThanOrEqual(1);
    const [left] = await bucket.getFiles({ prefix: 'chargen/' });
    expect(left.map((file) => file.name)).toEqual(['chargen/w1-other/keep.jsonl', 'chargen/w2/keep.jsonl']);
    expect(await deleteObjectsUnder({ storage, bucket: bucketName, prefix: 'chargen/w1/', retry })).toEqual({ deleted: 0, gone: 0, failed: [] });
  });
});
