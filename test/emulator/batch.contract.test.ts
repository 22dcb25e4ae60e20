import { JobState, type GoogleGenAI } from '@google/genai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inspectImage } from '../../lib/media/inspect-image.ts';
import { createSamplePng } from '../support/sample-images.ts';
import { startTestEmulator, type TestEmulator } from '../support/start-test-emulator.ts';
import { expectApiError } from '../support/expect-rejection.ts';

let emulator: TestEmulator;
let workDirectory: string;
beforeAll(async () => {
  emulator = await startTestEmulator();
  workDirectory = await mkdtemp(join(tmpdir(), 'chargen-batch-test-'));
});
afterAll(async () => {
  await emulator.close();
  await rm(workDirectory, { recursive: true, force: true });
});
afterEach(async () => emulator.emulator.reset());

const analysisSchema = {
  type: 'OBJECT',
  properties: { species: { type: 'STRING' }, mood: { type: 'STRING', enum: ['calm', 'fierce'] } },
  required: ['species', 'mood'],
};

function analysisLine(key: string, fileUri: string) {
  return {
    key,
    request: {
      contents: [{ role: 'user', parts: [{ text: 'Describe the character.' }, { file_data: { file_uri: fileUri, mime_type: 'image/png' } }] }],
      generation_config: { response_mime_type: 'application/json', response_schema: analysisSchema },
    },
  };
}

async function uploadJsonl(client: GoogleGenAI, lines: unknown[]): Promise<string> {
  const text = lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n');
  const file = await client.files.upload({ file: new Blob([text]), config: { mimeType: 'application/json' } });
  return file.name ?? '';
}

async function downloadLines(client: GoogleGenAI, fileName: string): Promise<Record<string, unknown>[]> {
  const path = join(workDirectory, `${fileName.replace('/', '_')}-${Math.random()}.jsonl`);
  await client.files.download({ file: fileName, downloadPath: path });
  const text = await readFile(path, 'utf8');
  return text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}


describe('batches: a file-source job from create to downloaded results', () => {
  it('moves PENDING → RUNNING → SUCCEEDED on the clock and answers one line per key', async () => {
    const imageA = await emulator.client.files.upload({ file: new Blob([createSamplePng('batch-a')]), config: { mimeType: 'image/png' } });
    const imageB = await emulator.client.files.upload({ file: new Blob([createSamplePng('batch-b')]), config: { mimeType: 'image/png' } });
    const notImage = await emulator.client.files.upload({ file: new Blob(['plain words']), config: { mimeType: 'image/png' } });
    const input = await uploadJsonl(emulator.client, [
      analysisLine('a', imageA.uri ?? ''),
      analysisLine('b', imageB.uri ?? ''),
      analysisLine('broken', notImage.uri ?? ''),
    ]);

    const created = await emulator.client.batches.create({ model: 'gemini-3-flash-preview', src: input, config: { displayName: 'chargen-ws1-analyze-abc' } });
    expect(created.name).toMatch(/^batches\/[a-z0-9]{36}$/);
    expect(created.state).toBe(JobState.JOB_STATE_PENDING);
    expect(created.displayName).toBe('chargen-ws1-analyze-abc');
    expect(created.model).toBe('models/gemini-3-flash-preview');

    emulator.clock.advance(1000);
    expect((await emulator.client.batches.get({ name: created.name ?? '' })).state).toBe(JobState.JOB_STATE_RUNNING);
    emulator.clock.advance(1000);
    const finished = await emulator.client.batches.get({ name: created.name ?? '' });
    expect(finished.state).toBe(JobState.JOB_STATE_SUCCEEDED);
    const outputName = finished.dest?.fileName ?? '';
    expect(outputName).toBe(`files/batch-${(created.name ?? '').slice('batches/'.length)}`);

    const lines = await downloadLines(emulator.client, outputName);
    expect(lines.map((line) => line['key'])).toEqual(['a', 'b', 'broken']);
    const text = (line: Record<string, unknown> | undefined) =>
      (line?.['response'] as { candidates: { content: { parts: { text: string }[] } }[] }).candidates[0]?.content.parts[0]?.text ?? '';
    const recordA = JSON.parse(text(lines[0])) as { species: string; mood: string };
    // A thinking model's batch line signs its answer in a part of its own (a recorded gemini-3.5-flash-lite line).
    const answerParts = (lines[0]?.['response'] as { candidates: { content: { parts: Record<string, unknown>[] } }[] }).candidates[0]?.content.parts;
    expect(answerParts?.map((part) => Object.keys(part))).toEqual([['text'], ['thoughtSignature']]);
    expect(['calm', 'fierce']).toContain(recordA.mood);
    expect(text(lines[0])).not.toBe(text(lines[1]));
    // Error lines as seen on real ones (python-genai#1341): google.rpc code and message, no status name.
    expect(lines[2]?.['error']).toEqual({ code: 3, message: expect.stringContaining('Unable to process input image') });

    const stats = await emulator.stats();
    expect(stats['batchesCreated']).toBe(1);
    expect(stats['requestsByModel']).toEqual({ 'gemini-3-flash-preview': 3 });
  });

  it('shapes the Operation as the real API does: strings for counts, zeros left out, done and response', async () => {
    const image = await emulator.client.files.upload({ file: new Blob([createSamplePng('op')]), config: { mimeType: 'image/png' } });
    const input = await uploadJsonl(emulator.client, [analysisLine('k1', image.uri ?? ''), analysisLine('k2', image.uri ?? '')]);
    const created = await emulator.client.batches.create({ model: 'gemini-3-flash-preview', src: input, config: { displayName: 'shape' } });
    const pending = (await (await emulator.request(`/v1beta/${created.name ?? ''}`)).json()) as Record<string, any>;
    expect(pending['done']).toBeUndefined();
    expect(pending['metadata']['@type']).toBe('type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch');
    expect(pending['metadata']['state']).toBe('BATCH_STATE_PENDING');
    expect(pending['metadata']['batchStats']).toEqual({ requestCount: '2', pendingRequestCount: '2' });
    expect(pending['metadata']['inputConfig']).toEqual({ fileName: input });
    emulator.clock.advance(2000);
    const done = (await (await emulator.request(`/v1beta/${created.name ?? ''}`)).json()) as Record<string, any>;
    expect(done['done']).toBe(true);
    expect(done['metadata']['batchStats']).toEqual({ requestCount: '2', successfulRequestCount: '2' });
    expect(done['metadata']['output']).toEqual({ responsesFile: `files/batch-${(created.name ?? '').slice(8)}` });
    expect(done['response']).toMatchObject({ responsesFile: done['metadata']['output']['responsesFile'] });
    expect(done['metadata']['endTime']).toMatch(/Z$/);
  });

  it('downloads the result at /download/v1beta/... as well, streamed byte for byte', async () => {
    const image = await emulator.client.files.upload({ file: new Blob([createSamplePng('dl2')]), config: { mimeType: 'image/png' } });
    const input = await uploadJsonl(emulator.client, [analysisLine('only', image.uri ?? '')]);
    const created = await emulator.client.batches.create({ model: 'gemini-3-flash-preview', src: input });
    emulator.clock.advance(2000);
    const output = (await emulator.client.batches.get({ name: created.name ?? '' })).dest?.fileName ?? '';
    const viaSdk = await downloadLines(emulator.client, output);
    const viaDocsPath = await emulator.request(`/download/v1beta/${output}:download?alt=media`);
    expect(viaDocsPath.status).toBe(200);
    expect((await viaDocsPath.text()).trimEnd()).toBe(viaSdk.map((line) => JSON.stringify(line)).join('\n'));
  });

  it('answers an image batch with signed JPEGs of the asked size', async () => {
    const line = (key: string, aspectRatio: string) => ({
      key,
      request: {
        contents: [{ role: 'user', parts: [{ text: `A ranger, ${key}` }] }],
        generationConfig: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio, imageSize: '1K' } },
      },
    });
    const input = await uploadJsonl(emulator.client, [line('portrait', '9:16'), line('square', '1:1'), line('blocked [[image-safety]]', '1:1')]);
    const created = await emulator.client.batches.create({ model: 'gemini-3-pro-image', src: input });
    emulator.clock.advance(2000);
    const output = (await emulator.client.batches.get({ name: created.name ?? '' })).dest?.fileName ?? '';
    const lines = await downloadLines(emulator.client, output);
    const finalImage = (entry: Record<string, unknown> | undefined) => {
      const parts = (entry?.['response'] as { candidates: { content: { parts: { inlineData?: { data: string }; thought?: boolean; thoughtSignature?: string }[] } }[] }).candidates[0]?.content.parts ?? [];
      const final = parts.filter((part) => part.inlineData && !part.thought).at(-1);
      expect(final?.thoughtSignature).toBeTruthy();
      return inspectImage(Buffer.from(final?.inlineData?.data ?? '', 'base64'));
    };
    expect(finalImage(lines[0])).toMatchObject({ format: 'jpeg', width: 768, height: 1376 });
    expect(finalImage(lines[1])).toMatchObject({ format: 'jpeg', width: 1024, height: 1024 });
    expect((lines[2]?.['response'] as { candidates: { finishReason: string }[] }).candidates[0]?.finishReason).toBe('IMAGE_SAFETY');
  });

  it('gives a line that references an expired upload a per-line error', async () => {
    const image = await emulator.client.files.upload({ file: new Blob([createSamplePng('old')]), config: { mimeType: 'image/png' } });
    emulator.clock.advance(48 * 3600 * 1000 + 1);
    const fresh = await emulator.client.files.upload({ file: new Blob([createSamplePng('fresh')]), config: { mimeType: 'image/png' } });
    const input = await uploadJsonl(emulator.client, [analysisLine('old', image.uri ?? ''), analysisLine('fresh', fresh.uri ?? '')]);
    const created = await emulator.client.batches.create({ model: 'gemini-3-flash-preview', src: input });
    emulator.clock.advance(2000);
    const output = (await emulator.client.batches.get({ name: created.name ?? '' })).dest?.fileName ?? '';
    const lines = await downloadLines(emulator.client, output);
    expect(lines[0]?.['error']).toEqual({ code: 7, message: expect.stringContaining('You do not have permission to access the File') });
    expect(lines[1]?.['response']).toBeDefined();
  });

  it('refuses a job over a missing input file, and 404s an unknown job', async () => {
    expect((await expectApiError(emulator.client.batches.create({ model: 'gemini-3-flash-preview', src: 'files/missing' }))).status).toBe(404);
    expect((await expectApiError(emulator.client.batches.get({ name: 'batches/unknown' }))).status).toBe(404);
    expect((await expectApiError(emulator.client.batches.create({ model: 'gemini-9', src: 'files/x' }))).status).toBe(404);
  });
});

describe('batches: inline requests', () => {
  it('answers inlined responses with their metadata keys, under metadata.output', async () => {
    const created = await emulator.client.batches.create({
      model: 'gemini-3-flash-preview',
      src: [
        { contents: [{ role: 'user', parts: [{ text: 'first' }] }], metadata: { key: 'one' } },
        { contents: [{ role: 'user', parts: [{ text: 'second' }] }], config: { temperature: 0.1 }, metadata: { key: 'two' } },
      ],
      config: { displayName: 'inline-job' },
    });
    emulator.clock.advance(2000);
    const finished = await emulator.client.batches.get({ name: created.name ?? '' });
    expect(finished.state).toBe(JobState.JOB_STATE_SUCCEEDED);
    const responses = finished.dest?.inlinedResponses ?? [];
    expect(responses.map((entry) => entry.metadata?.['key'])).toEqual(['one', 'two']);
    expect(responses[0]?.response?.candidates?.[0]?.content?.parts?.[0]?.text).toContain('first');
  });

  it('refuses an inline batch over the size limit (scaled down here)', async () => {
    const small = await startTestEmulator({ limits: { maxInlineBatchBytes: 2000 } });
    try {
      const error = await expectApiError(
        small.client.batches.create({ model: 'gemini-3-flash-preview', src: [{ contents: [{ role: 'user', parts: [{ text: 'x'.repeat(3000) }] }] }] }),
      );
      expect(error.status).toBe(400);
      expect(error.message).toContain('exceeds the limit');
    } finally {
      await small.close();
    }
  });
});

describe('batches: list, cancel, delete, limits', () => {
  async function createInline(client: GoogleGenAI, displayName: string) {
    return client.batches.create({ model: 'gemini-3-flash-preview', src: [{ contents: [{ role: 'user', parts: [{ text: displayName }] }] }], config: { displayName } });
  }

  it('lists every job across pages when pageSize is given, newest first; none without it (as users report)', async () => {
    const names: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      names.push((await createInline(emulator.client, `job-${index}`)).name ?? '');
      emulator.clock.advance(10);
    }
    const seen: string[] = [];
    for await (const job of await emulator.client.batches.list({ config: { pageSize: 2 } })) seen.push(job.name ?? '');
    expect(seen).toEqual([...names].reverse());
    const withoutPageSize = await emulator.client.batches.list();
    expect(withoutPageSize.page).toHaveLength(0);
  });

  it('cancels a pending job (answering {}), which then reads CANCELLED; cancelling it again changes nothing', async () => {
    const job = await createInline(emulator.client, 'to-cancel');
    const raw = await emulator.request(`/v1beta/${job.name ?? ''}:cancel`, { method: 'POST', body: '{}' });
    expect(raw.status).toBe(200);
    expect(await raw.json()).toEqual({});
    emulator.clock.advance(5000);
    const cancelled = await emulator.client.batches.get({ name: job.name ?? '' });
    expect(cancelled.state).toBe(JobState.JOB_STATE_CANCELLED);
    expect(cancelled.dest).toBeUndefined();
    await emulator.client.batches.cancel({ name: job.name ?? '' });
    expect((await emulator.client.batches.get({ name: job.name ?? '' })).state).toBe(JobState.JOB_STATE_CANCELLED);
    expect((await emulator.stats())['batchesCancelled']).toBe(1);
    expect((await emulator.stats())['requestsByModel']).toEqual({});
  });

  it('answers no line before a job is RUNNING and shows no result before it has SUCCEEDED', async () => {
    const image = await emulator.client.files.upload({ file: new Blob([createSamplePng('visible')]), config: { mimeType: 'image/png' } });
    const input = await uploadJsonl(emulator.client, [analysisLine('v', image.uri ?? '')]);
    const job = await emulator.client.batches.create({ model: 'gemini-3-flash-preview', src: input });
    const generatedFiles = async () => {
      const names: string[] = [];
      for await (const file of await emulator.client.files.list({ config: { pageSize: 100 } })) if (file.source === 'GENERATED') names.push(file.name ?? '');
      return names;
    };
    expect((await emulator.stats())['requestsByModel']).toEqual({});
    emulator.clock.advance(1000);
    expect((await emulator.client.batches.get({ name: job.name ?? '' })).state).toBe(JobState.JOB_STATE_RUNNING);
    expect(await generatedFiles()).toEqual([]);
    emulator.clock.advance(1000);
    expect(await generatedFiles()).toEqual([`files/batch-${(job.name ?? '').slice(8)}`]);
    expect((await emulator.stats())['requestsByModel']).toEqual({ 'gemini-3-flash-preview': 1 });
  });

  it('cancels a RUNNING job, whose results never appear', async () => {
    const job = await createInline(emulator.client, 'running-cancel');
    emulator.clock.advance(1500);
    expect((await emulator.client.batches.get({ name: job.name ?? '' })).state).toBe(JobState.JOB_STATE_RUNNING);
    await emulator.client.batches.cancel({ name: job.name ?? '' });
    emulator.clock.advance(5000);
    const cancelled = await emulator.client.batches.get({ name: job.name ?? '' });
    expect(cancelled.state).toBe(JobState.JOB_STATE_CANCELLED);
    expect(cancelled.dest).toBeUndefined();
  });

  it('deletes a job without cancelling it: its lines are still answered', async () => {
    const job = await createInline(emulator.client, 'deleted-but-running');
    await emulator.client.batches.delete({ name: job.name ?? '' });
    emulator.clock.advance(2000);
    await emulator.client.files.list({ config: { pageSize: 1 } });
    expect((await emulator.stats())['requestsByModel']).toEqual({ 'gemini-3-flash-preview': 1 });
  });

  it('deletes a job, which then 404s', async () => {
    const job = await createInline(emulator.client, 'to-delete');
    await emulator.client.batches.delete({ name: job.name ?? '' });
    expect((await expectApiError(emulator.client.batches.get({ name: job.name ?? '' }))).status).toBe(404);
  });

  it('refuses a job beyond the concurrent limit with 429, and accepts again once one finishes', async () => {
    const small = await startTestEmulator({ limits: { maxConcurrentBatches: 2 } });
    try {
      await createInline(small.client, 'one');
      await createInline(small.client, 'two');
      const error = await expectApiError(createInline(small.client, 'three'));
      expect(error.status).toBe(429);
      expect(error.message).toContain('RESOURCE_EXHAUSTED');
      small.clock.advance(2000);
      await expect(createInline(small.client, 'four')).resolves.toBeDefined();
    } finally {
      await small.close();
    }
  });
});
