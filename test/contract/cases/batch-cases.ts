import { JobState, type GoogleGenAI } from '@google/genai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { inspectImage } from '../../../lib/media/inspect-image.ts';
import { expectApiError } from '../../support/expect-rejection.ts';
import { createSamplePng } from '../../support/sample-images.ts';
import type { DefineContractCase } from '../test-gemini-backend.ts';

// Moved from test/emulator/batch.contract.test.ts; what needs the emulator's counters alone or its limits stays there.

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

/** Through the SDK's files.download (a 302 to /download/… on the real API), into a folder of its own. */
async function downloadLines(client: GoogleGenAI, fileName: string): Promise<Record<string, unknown>[]> {
  const workDirectory = await mkdtemp(join(tmpdir(), 'chargen-batch-test-'));
  try {
    const path = join(workDirectory, `${fileName.replace('/', '_')}.jsonl`);
    await client.files.download({ file: fileName, downloadPath: path });
    const text = await readFile(path, 'utf8');
    return text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  } finally {
    await rm(workDirectory, { recursive: true, force: true });
  }
}

async function createInline(client: GoogleGenAI, displayName: string) {
  return client.batches.create({ model: 'gemini-3-flash-preview', src: [{ contents: [{ role: 'user', parts: [{ text: displayName }] }] }], config: { displayName } });
}

export function defineBatchCases(contractCase: DefineContractCase): void {
  describe('batches: a file-source job from create to downloaded results', () => {
    contractCase('moves PENDING → RUNNING → SUCCEEDED on the clock and answers one line per key', ['clock', 'unmetered'], async (backend) => {
      const imageA = await backend.client.files.upload({ file: new Blob([createSamplePng('batch-a')]), config: { mimeType: 'image/png' } });
      const imageB = await backend.client.files.upload({ file: new Blob([createSamplePng('batch-b')]), config: { mimeType: 'image/png' } });
      const notImage = await backend.client.files.upload({ file: new Blob(['plain words']), config: { mimeType: 'image/png' } });
      const input = await uploadJsonl(backend.client, [
        analysisLine('a', imageA.uri ?? ''),
        analysisLine('b', imageB.uri ?? ''),
        analysisLine('broken', notImage.uri ?? ''),
      ]);

      const created = await backend.client.batches.create({ model: 'gemini-3-flash-preview', src: input, config: { displayName: 'chargen-ws1-analyze-abc' } });
      expect(created.name).toMatch(/^batches\/[a-z0-9]{36}$/);
      expect(created.state).toBe(JobState.JOB_STATE_PENDING);
      expect(created.displayName).toBe('chargen-ws1-analyze-abc');
      expect(created.model).toBe('models/gemini-3-flash-preview');

      await backend.advanceClock(1000);
      expect((await backend.client.batches.get({ name: created.name ?? '' })).state).toBe(JobState.JOB_STATE_RUNNING);
      await backend.advanceClock(1000);
      const finished = await backend.client.batches.get({ name: created.name ?? '' });
      expect(finished.state).toBe(JobState.JOB_STATE_SUCCEEDED);
      const outputName = finished.dest?.fileName ?? '';
      expect(outputName).toBe(`files/batch-${(created.name ?? '').slice('batches/'.length)}`);

      const lines = await downloadLines(backend.client, outputName);
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

      if (backend.stats) {
        const stats = await backend.stats();
        expect(stats['batchesCreated']).toBe(1);
        expect(stats['requestsByModel']).toEqual({ 'gemini-3-flash-preview': 3 });
      }
    });

    contractCase('shapes the Operation as the real API does: strings for counts, zeros left out, done and response', ['clock', 'unmetered'], async (backend) => {
      const image = await backend.client.files.upload({ file: new Blob([createSamplePng('op')]), config: { mimeType: 'image/png' } });
      const input = await uploadJsonl(backend.client, [analysisLine('k1', image.uri ?? ''), analysisLine('k2', image.uri ?? '')]);
      const created = await backend.client.batches.create({ model: 'gemini-3-flash-preview', src: input, config: { displayName: 'shape' } });
      const pending = (await (await backend.request(`/v1beta/${created.name ?? ''}`)).json()) as Record<string, any>;
      expect(pending['done']).toBeUndefined();
      expect(pending['metadata']['@type']).toBe('type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch');
      expect(pending['metadata']['state']).toBe('BATCH_STATE_PENDING');
      expect(pending['metadata']['batchStats']).toEqual({ requestCount: '2', pendingRequestCount: '2' });
      expect(pending['metadata']['inputConfig']).toEqual({ fileName: input });
      await backend.advanceClock(2000);
      const done = (await (await backend.request(`/v1beta/${created.name ?? ''}`)).json()) as Record<string, any>;
      expect(done['done']).toBe(true);
      expect(done['metadata']['batchStats']).toEqual({ requestCount: '2', successfulRequestCount: '2' });
      expect(done['metadata']['output']).toEqual({ responsesFile: `files/batch-${(created.name ?? '').slice(8)}` });
      expect(done['response']).toMatchObject({ responsesFile: done['metadata']['output']['responsesFile'] });
      expect(done['metadata']['endTime']).toMatch(/Z$/);
    });

    contractCase('downloads the result at /download/v1beta/... as well, streamed byte for byte', ['clock', 'unmetered'], async (backend) => {
      const image = await backend.client.files.upload({ file: new Blob([createSamplePng('dl2')]), config: { mimeType: 'image/png' } });
      const input = await uploadJsonl(backend.client, [analysisLine('only', image.uri ?? '')]);
      const created = await backend.client.batches.create({ model: 'gemini-3-flash-preview', src: input });
      await backend.advanceClock(2000);
      const output = (await backend.client.batches.get({ name: created.name ?? '' })).dest?.fileName ?? '';
      const viaSdk = await downloadLines(backend.client, output);
      const viaDocsPath = await backend.request(`/download/v1beta/${output}:download?alt=media`);
      expect(viaDocsPath.status).toBe(200);
      expect((await viaDocsPath.text()).trimEnd()).toBe(viaSdk.map((line) => JSON.stringify(line)).join('\n'));
    });

    contractCase('answers an image batch with signed JPEGs of the asked size', ['clock', 'emulator-content', 'unmetered'], async (backend) => {
      const line = (key: string, aspectRatio: string) => ({
        key,
        request: {
          contents: [{ role: 'user', parts: [{ text: `A ranger, ${key}` }] }],
          generationConfig: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio, imageSize: '1K' } },
        },
      });
      const input = await uploadJsonl(backend.client, [line('portrait', '9:16'), line('square', '1:1'), line('blocked [[image-safety]]', '1:1')]);
      const created = await backend.client.batches.create({ model: 'gemini-3-pro-image', src: input });
      await backend.advanceClock(2000);
      const output = (await backend.client.batches.get({ name: created.name ?? '' })).dest?.fileName ?? '';
      const lines = await downloadLines(backend.client, output);
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

    contractCase('gives a line that references an expired upload a per-line error', ['clock', 'unmetered'], async (backend) => {
      const image = await backend.client.files.upload({ file: new Blob([createSamplePng('old')]), config: { mimeType: 'image/png' } });
      await backend.advanceClock(48 * 3600 * 1000 + 1);
      const fresh = await backend.client.files.upload({ file: new Blob([createSamplePng('fresh')]), config: { mimeType: 'image/png' } });
      const input = await uploadJsonl(backend.client, [analysisLine('old', image.uri ?? ''), analysisLine('fresh', fresh.uri ?? '')]);
      const created = await backend.client.batches.create({ model: 'gemini-3-flash-preview', src: input });
      await backend.advanceClock(2000);
      const output = (await backend.client.batches.get({ name: created.name ?? '' })).dest?.fileName ?? '';
      const lines = await downloadLines(backend.client, output);
      expect(lines[0]?.['error']).toEqual({ code: 7, message: expect.stringContaining('You do not have permission to access the File') });
      expect(lines[1]?.['response']).toBeDefined();
    });

    contractCase('refuses a job over a missing input file, and 404s an unknown job', ['unmetered'], async (backend) => {
      expect((await expectApiError(backend.client.batches.create({ model: 'gemini-3-flash-preview', src: 'files/missing' }))).status).toBe(404);
      expect((await expectApiError(backend.client.batches.get({ name: 'batches/unknown' }))).status).toBe(404);
      expect((await expectApiError(backend.client.batches.create({ model: 'gemini-9', src: 'files/x' }))).status).toBe(404);
    });

  });

  describe('batches: inline requests', () => {
    contractCase('answers inlined responses with their metadata keys, under metadata.output', ['clock', 'emulator-content', 'unmetered'], async (backend) => {
      const created = await backend.client.batches.create({
        model: 'gemini-3-flash-preview',
        src: [
          { contents: [{ role: 'user', parts: [{ text: 'first' }] }], metadata: { key: 'one' } },
          { contents: [{ role: 'user', parts: [{ text: 'second' }] }], config: { temperature: 0.1 }, metadata: { key: 'two' } },
        ],
        config: { displayName: 'inline-job' },
      });
      await backend.advanceClock(2000);
      const finished = await backend.client.batches.get({ name: created.name ?? '' });
      expect(finished.state).toBe(JobState.JOB_STATE_SUCCEEDED);
      const responses = finished.dest?.inlinedResponses ?? [];
      expect(responses.map((entry) => entry.metadata?.['key'])).toEqual(['one', 'two']);
      expect(responses[0]?.response?.candidates?.[0]?.content?.parts?.[0]?.text).toContain('first');
    });

  });

  describe('batches: list, cancel, delete, limits', () => {
    contractCase('lists every job across pages when pageSize is given, newest first; none without it (as users report)', ['fresh-state', 'clock', 'unmetered'], async (backend) => {
      const names: string[] = [];
      for (let index = 0; index < 5; index += 1) {
        names.push((await createInline(backend.client, `job-${index}`)).name ?? '');
        await backend.advanceClock(10);
      }
      const seen: string[] = [];
      for await (const job of await backend.client.batches.list({ config: { pageSize: 2 } })) seen.push(job.name ?? '');
      expect(seen).toEqual([...names].reverse());
      const withoutPageSize = await backend.client.batches.list();
      expect(withoutPageSize.page).toHaveLength(0);
    });

    contractCase('cancels a pending job (answering {}), which then reads CANCELLED; cancelling it again changes nothing', [], async (backend) => {
      const job = await createInline(backend.client, 'to-cancel');
      const raw = await backend.request(`/v1beta/${job.name ?? ''}:cancel`, { method: 'POST', body: '{}' });
      expect(raw.status).toBe(200);
      expect(await raw.json()).toEqual({});
      await backend.advanceClock(5000);
      const cancelled = await backend.client.batches.get({ name: job.name ?? '' });
      expect(cancelled.state).toBe(JobState.JOB_STATE_CANCELLED);
      expect(cancelled.dest).toBeUndefined();
      await backend.client.batches.cancel({ name: job.name ?? '' });
      expect((await backend.client.batches.get({ name: job.name ?? '' })).state).toBe(JobState.JOB_STATE_CANCELLED);
      if (backend.stats) expect((await backend.stats())['batchesCancelled']).toBe(1);
      if (backend.stats) expect((await backend.stats())['requestsByModel']).toEqual({});
    });

    contractCase('answers no line before a job is RUNNING and shows no result before it has SUCCEEDED', ['clock', 'fresh-state', 'unmetered'], async (backend) => {
      const image = await backend.client.files.upload({ file: new Blob([createSamplePng('visible')]), config: { mimeType: 'image/png' } });
      const input = await uploadJsonl(backend.client, [analysisLine('v', image.uri ?? '')]);
      const job = await backend.client.batches.create({ model: 'gemini-3-flash-preview', src: input });
      const generatedFiles = async () => {
        const names: string[] = [];
        for await (const file of await backend.client.files.list({ config: { pageSize: 100 } })) if (file.source === 'GENERATED') names.push(file.name ?? '');
        return names;
      };
      if (backend.stats) expect((await backend.stats())['requestsByModel']).toEqual({});
      await backend.advanceClock(1000);
      expect((await backend.client.batches.get({ name: job.name ?? '' })).state).toBe(JobState.JOB_STATE_RUNNING);
      expect(await generatedFiles()).toEqual([]);
      await backend.advanceClock(1000);
      expect(await generatedFiles()).toEqual([`files/batch-${(job.name ?? '').slice(8)}`]);
      if (backend.stats) expect((await backend.stats())['requestsByModel']).toEqual({ 'gemini-3-flash-preview': 1 });
    });

    contractCase('cancels a RUNNING job, whose results never appear', ['clock', 'unmetered'], async (backend) => {
      const job = await createInline(backend.client, 'running-cancel');
      await backend.advanceClock(1500);
      expect((await backend.client.batches.get({ name: job.name ?? '' })).state).toBe(JobState.JOB_STATE_RUNNING);
      await backend.client.batches.cancel({ name: job.name ?? '' });
      await backend.advanceClock(5000);
      const cancelled = await backend.client.batches.get({ name: job.name ?? '' });
      expect(cancelled.state).toBe(JobState.JOB_STATE_CANCELLED);
      expect(cancelled.dest).toBeUndefined();
    });

    contractCase('deletes a job, which then 404s', ['unmetered'], async (backend) => {
      const job = await createInline(backend.client, 'to-delete');
      await backend.client.batches.delete({ name: job.name ?? '' });
      expect((await expectApiError(backend.client.batches.get({ name: job.name ?? '' }))).status).toBe(404);
    });
  });
}
