#!/usr/bin/env node
// Independent Cloud Storage client, written only from the public @google-cloud/storage docs (README, the Storage,
// Bucket and File reference) and the JSON API reference: no chargen code. It uploads objects three ways, lists them
// a page at a time, reads them whole and in part, refuses to overwrite with a create-only precondition, and deletes.
//
// Usage:
//   STORAGE_ENDPOINT=http://127.0.0.1:PORT [BUCKET=my-bucket] node cloud-storage-client.mjs
// Without STORAGE_ENDPOINT it would talk to the real service with Application Default Credentials.
// Exit code 0 only if every step worked.

import { Storage } from '@google-cloud/storage';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const endpoint = process.env.STORAGE_ENDPOINT;
const bucketName = process.env.BUCKET ?? 'external-client-bucket';
const prefix = `run-${Date.now()}/`;

const storage = endpoint ? new Storage({ apiEndpoint: endpoint, projectId: 'external-client' }) : new Storage();
const bucket = storage.bucket(bucketName);

function step(text) {
  process.stdout.write(`ok   ${text}\n`);
}

function fail(text) {
  throw new Error(text);
}

function md5(bytes) {
  return createHash('md5').update(bytes).digest('base64');
}

function makeBytes(length, seed) {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 13 + seed) % 251;
  return bytes;
}

async function readStream(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function upload() {
  const small = {};
  for (const [index, name] of ['inputs/a.jsonl', 'inputs/b.jsonl', 'inputs/c.jsonl', 'images/one.png', 'images/two.png', 'notes.txt'].entries()) {
    const bytes = makeBytes(1000 + index * 100, index);
    // Half of them in one request, half through a resumable session.
    await bucket.file(prefix + name).save(bytes, { resumable: index % 2 === 1 });
    small[name] = bytes;
  }
  step(`uploaded ${Object.keys(small).length} small objects with file.save`);
  const big = makeBytes(2 * 1024 * 1024 + 777, 99);
  const writeStream = bucket.file(prefix + 'big/predictions.jsonl').createWriteStream({ resumable: true, chunkSize: 256 * 1024, contentType: 'application/jsonl' });
  await pipeline(Readable.from([big]), writeStream);
  step('uploaded a 2 MB object in 256 KiB chunks with createWriteStream');
  return { small, big };
}

async function list(small) {
  const pages = [];
  let query = { prefix, maxResults: 2, autoPaginate: false };
  while (query) {
    const [files, next] = await bucket.getFiles(query);
    pages.push(files.map((file) => file.name.slice(prefix.length)));
    query = next;
  }
  const names = pages.flat();
  const expected = [...Object.keys(small), 'big/predictions.jsonl'].sort();
  if (JSON.stringify(names) !== JSON.stringify(expected)) fail(`listing gave ${JSON.stringify(names)}, expected ${JSON.stringify(expected)}`);
  if (pages.some((page) => page.length > 2)) fail('a page held more than maxResults');
  step(`listed ${names.length} objects in ${pages.length} pages of at most 2`);
  const [, , response] = await bucket.getFiles({ prefix, delimiter: '/', autoPaginate: false });
  const folders = (response.prefixes ?? []).map((folder) => folder.slice(prefix.length));
  if (JSON.stringify(folders) !== JSON.stringify(['big/', 'images/', 'inputs/'])) fail(`folders: ${JSON.stringify(folders)}`);
  step(`listed with delimiter "/": folders ${folders.join(', ')}`);
}

async function read(small, big) {
  for (const [name, bytes] of Object.entries(small)) {
    const [contents] = await bucket.file(prefix + name).download();
    if (!contents.equals(bytes)) fail(`${name} came back different`);
  }
  const file = bucket.file(prefix + 'big/predictions.jsonl');
  const [metadata] = await file.getMetadata();
  if (Number(metadata.size) !== big.length || metadata.md5Hash !== md5(big)) fail(`big object metadata: ${metadata.size} ${metadata.md5Hash}`);
  if (metadata.contentType !== 'application/jsonl') fail(`content type ${metadata.contentType}`);
  const whole = await readStream(file.createReadStream());
  const part = await readStream(file.createReadStream({ start: 300_000, end: 300_099 }));
  if (!whole.equals(big) || !part.equals(big.subarray(300_000, 300_100))) fail('the big object read back wrong');
  step('read every object back, whole and a 100-byte range, hashes checked');
}

async function createOnly() {
  const file = bucket.file(prefix + 'inputs/a.jsonl');
  try {
    await file.save('overwrite', { preconditionOpts: { ifGenerationMatch: 0 } });
  } catch (error) {
    if (error.code !== 412) throw error;
    step('a create-only save over an existing object was refused with 412');
    return;
  }
  fail('a create-only save over an existing object succeeded');
}

async function remove() {
  const [files] = await bucket.getFiles({ prefix });
  await Promise.all(files.map((file) => file.delete()));
  const [left] = await bucket.getFiles({ prefix });
  if (left.length !== 0) fail(`${left.length} objects left after deleting`);
  const [exists] = await bucket.file(prefix + 'notes.txt').exists();
  if (exists) fail('a deleted object still exists');
  step(`deleted ${files.length} objects; none left`);
}

try {
  const { small, big } = await upload();
  await list(small);
  await read(small, big);
  await createOnly();
  await remove();
  process.stdout.write('all steps passed\n');
} catch (error) {
  process.stderr.write(`FAILED: ${error?.stack ?? error}\n`);
  process.exitCode = 1;
}
