import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobFile, blobPath, storeBlob } from '../../lib/gemini/blob-file.ts';
import { blobReferenceSchema } from '../../schemas/blob-reference.ts';

let directory = '';

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'chargen-blob-file-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function hashBytes(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('storeBlob', () => {
  it('stores bytes under their sha256 in a folder it creates, and leaves no temporary file', async () => {
    const blobDirectory = join(directory, 'nested', 'blobs');
    const bytes = Buffer.from('an image, as far as this test cares');
    const reference = await storeBlob({ blobDirectory, bytes });
    expect(reference).toEqual({ sha256: hashBytes(bytes), bytes: bytes.length });
    expect(blobReferenceSchema.safeParse(reference).success).toBe(true);
    expect(await readFile(blobPath({ blobDirectory, blob: reference }))).toEqual(bytes);
    expect(await readdir(blobDirectory)).toEqual([reference.sha256]);
  });

  it('replaces a changed file of the same name with the bytes that hash to it', async () => {
    const bytes = Buffer.from('the received bytes');
    await writeFile(join(directory, hashBytes(bytes)), 'changed on disk since');
    const reference = await storeBlob({ blobDirectory: directory, bytes });
    expect(await readFile(blobPath({ blobDirectory: directory, blob: reference }))).toEqual(bytes);
  });
});

describe('BlobFile', () => {
  it('is a partial- file until kept, then named by the hash given', async () => {
    const file = await BlobFile.create(directory);
    await file.write([Buffer.from('ab'), Buffer.from('cd')]);
    await file.close();
    expect((await readdir(directory))[0]).toMatch(/^partial-/);
    const sha256 = hashBytes(Buffer.from('abcd'));
    await file.keep(sha256);
    expect(await readdir(directory)).toEqual([sha256]);
    expect(await readFile(join(directory, sha256), 'utf8')).toBe('abcd');
  });

  it('discard removes the file, open or closed, and never throws', async () => {
    const open = await BlobFile.create(directory);
    await open.write([Buffer.from('x')]);
    await open.discard();
    const closed = await BlobFile.create(directory);
    await closed.close();
    await closed.discard();
    await closed.discard();
    expect(await readdir(directory)).toEqual([]);
  });
});
