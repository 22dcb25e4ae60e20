import { GoogleGenAI, JobState } from '@google/genai';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { createSamplePng } from '../support/sample-images.ts';

/** A distinctive key, so a test can prove it is written nowhere in a cassette. */
export const upstreamApiKey = 'fakeKeyCassetteSecret-7f3c9e21d0b84a56';
export const batchModel = 'gemini-3-pro-image';

/**
 * A real PNG of a few hundred KB: a small picture with a private ancillary chunk of incompressible bytes, so its
 * upload chunk is stored beside the cassette. Deterministic, so a replay uploads the same bytes.
 */
export function createLargeReferencePng(): Buffer {
  const png = createSamplePng('cassette-reference');
  const blocks: Buffer[] = [];
  for (let index = 0; index < 300 * 1024 / 32; index += 1) blocks.push(createHash('sha256').update(`padding-${index}`).digest());
  const data = Buffer.concat(blocks);
  const typeAndData = Buffer.concat([Buffer.from('pkDg', 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(typeAndData));
  const endChunkStart = png.length - 12;
  return Buffer.concat([png.subarray(0, endChunkStart), length, typeAndData, checksum, png.subarray(endChunkStart)]);
}

export function createClient(options: { baseUrl: string; apiKey?: string }): GoogleGenAI {
  return new GoogleGenAI({ apiKey: options.apiKey ?? 'a-client-key-the-proxy-replaces', apiVersion: 'v1beta', httpOptions: { baseUrl: options.baseUrl } });
}

/** At the URL the SDK asks, which the real API (and the emulator) redirect to `/download/v1beta/…`; fetch follows. */
export async function downloadResults(options: { baseUrl: string; fileName: string }): Promise<Buffer> {
  const response = await fetch(`${options.baseUrl}/v1beta/${options.fileName}:download?alt=media`, {
    headers: { 'x-goog-api-key': 'a-client-key-the-proxy-replaces' },
  });
  if (!response.ok) throw new Error(`download answered ${response.status}: ${await response.text()}`);
  return Buffer.from(await response.arrayBuffer());
}

function batchLines(imageUri: string): string {
  const lines = [
    {
      key: 'portrait',
      request: {
        contents: [{ role: 'user', parts: [{ text: 'Draw this character in a new pose.' }, { fileData: { fileUri: imageUri, mimeType: 'image/png' } }] }],
        generationConfig: { responseModalities: ['TEXT', 'IMAGE'], imageConfig: { aspectRatio: '9:16', imageSize: '2K' } },
      },
    },
    {
      key: 'sketch',
      request: {
        contents: [{ role: 'user', parts: [{ text: 'Draw a small dragon.' }] }],
        generationConfig: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio: '1:1', imageSize: '1K' } },
      },
    },
  ];
  return lines.map((line) => JSON.stringify(line)).join('\n');
}

export interface SequenceResult {
  uploaded: unknown;
  fetched: unknown;
  input: unknown;
  created: unknown;
  states: (string | undefined)[];
  resultsFile: string;
  results: Buffer;
}

/**
 * The calls a batch stage makes, through the real SDK: upload, files.get, batches.create from an uploaded JSONL,
 * batches.get until SUCCEEDED (then `extraPolls` more), and the results by plain fetch.
 */
export async function runBatchSequence(options: {
  baseUrl: string;
  image: Buffer;
  /** Called between polls while recording, to move the emulator's clock. */
  betweenPolls?: () => void;
  extraPolls: number;
}): Promise<SequenceResult> {
  const client = createClient({ baseUrl: options.baseUrl });
  const uploaded = await client.files.upload({ file: new Blob([options.image]), config: { mimeType: 'image/png', displayName: 'reference' } });
  const fetched = await client.files.get({ name: uploaded.name ?? '' });
  const input = await client.files.upload({ file: new Blob([batchLines(fetched.uri ?? '')]), config: { mimeType: 'application/json' } });
  const created = await client.batches.create({ model: batchModel, src: input.name ?? '', config: { displayName: 'cassette-batch' } });
  const states: (string | undefined)[] = [];
  let resultsFile = '';
  for (let poll = 0; poll < 20 && resultsFile === ''; poll += 1) {
    const job = await client.batches.get({ name: created.name ?? '' });
    states.push(job.state);
    if (job.state === JobState.JOB_STATE_SUCCEEDED) resultsFile = job.dest?.fileName ?? '';
    else options.betweenPolls?.();
  }
  for (let poll = 0; poll < options.extraPolls; poll += 1) states.push((await client.batches.get({ name: created.name ?? '' })).state);
  const results = await downloadResults({ baseUrl: options.baseUrl, fileName: resultsFile });
  return { uploaded, fetched, input, created, states, resultsFile, results };
}
