import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createGeminiFixture, createTextLines, type GeminiFixture } from '../support/gemini-fixture.ts';
import { createRequestFileUploader } from '../../lib/gemini/upload-request-file.ts';
import { defaultRetryPolicy } from '../../lib/gemini/call-with-retry.ts';

// The Files API has refused request JSONL uploads for their MIME type at finalize ("Unsupported MIME type: jsonl",
// python-genai#1547, #1590; cookbook#1008 saw jsonl, application/jsonl and application/json-lines each refused at
// times). The emulator's refusedUploadMimeTypes quirk plays that back; its stats count every refusal.

let fixture: GeminiFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const model = 'gemini-3-flash-preview';

async function readUploadStats(target: GeminiFixture): Promise<{ uploads: number; uploadsRefused: number; batchesCreated: number }> {
  const stats = await target.emulator.stats();
  return { uploads: Number(stats['uploads']), uploadsRefused: Number(stats['uploadsRefused']), batchesCreated: Number(stats['batchesCreated']) };
}

describe('request files whose MIME type the Files API refuses', () => {
  it('falls back to jsonl in a new upload, once for all chunks, and a later executor in the workspace starts with it', async () => {
    fixture = await createGeminiFixture({ quirks: { refusedUploadMimeTypes: ['application/json'] }, latency: { pendingMilliseconds: 1_000, runningMilliseconds: 1_000 } });
    const first = await fixture.createBatchExecutor({ settings: { chunkMaxLines: 3 } }).execute({ stage: 'analyze', model, lines: createTextLines(9, 'first') });
    expect([...first.outcomes.values()].every((outcome) => outcome.status === 'succeeded')).toBe(true);
    expect(first.jobsCreated).toBe(3);
    // Chunks wait while the first finds a spelling the API takes: one refusal, not one per chunk in flight.
    expect(await readUploadStats(fixture)).toEqual({ uploads: 3, uploadsRefused: 1, batchesCreated: 3 });
    const warnings = fixture.logger.lines.filter((line) => line.text.includes('refused MIME type application/json'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.text).toContain('Unsupported MIME type: application/json');
    const memory = JSON.parse(await readFile(join(fixture.workspaceDirectory, 'request-mime-type.json'), 'utf8')) as Record<string, unknown>;
    expect(memory).toMatchObject({ version: 1, configured: 'application/json', accepted: 'jsonl' });

    // Detached, so that its job (still PENDING) keeps its request file on the Files API to be looked at.
    const second = await fixture.createBatchExecutor().execute({ stage: 'analyze', model, lines: createTextLines(2, 'second'), detach: true });
    expect(second.pendingJobs).toBe(1);
    expect(await readUploadStats(fixture)).toEqual({ uploads: 4, uploadsRefused: 1, batchesCreated: 4 });
    // The first three were deleted once their jobs had ended; the fourth went up as jsonl straight away.
    const requestFiles = [];
    for await (const file of await fixture.emulator.client.files.list({ config: { pageSize: 100 } })) if (file.source === 'UPLOADED') requestFiles.push(file.mimeType);
    expect(requestFiles).toEqual(['jsonl']);
  });

  it('fails the lines once, naming gemini.jsonlMimeType and what was tried, when every spelling is refused; no round uploads again', async () => {
    fixture = await createGeminiFixture({ quirks: { refusedUploadMimeTypes: ['application/json', 'jsonl', 'application/jsonl'] } });
    const report = await fixture.createBatchExecutor({ settings: { chunkMaxLines: 2, maxRounds: 3 } }).execute({ stage: 'analyze', model, lines: createTextLines(5) });
    const outcomes = [...report.outcomes.values()];
    expect(outcomes).toHaveLength(5);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ status: 'failed', retryable: false });
      if (outcome.status !== 'failed') continue;
      expect(outcome.reason).toContain('gemini.jsonlMimeType is application/json');
      expect(outcome.reason).toContain('application/json ("Unsupported MIME type: application/json"), jsonl ("Unsupported MIME type: jsonl"), application/jsonl');
      expect(outcome.fix).toContain('gemini.jsonlMimeType');
      expect(outcome.fix).toContain('chargen run --from analyze');
    }
    // Each spelling uploaded once, whatever the number of chunks and rounds; said once, not once per chunk.
    expect(await readUploadStats(fixture)).toEqual({ uploads: 0, uploadsRefused: 3, batchesCreated: 0 });
    expect(report.jobsCreated).toBe(0);
    expect(fixture.logger.lines.filter((line) => line.text.includes('refused, no job created'))).toHaveLength(1);
  });
});

describe('request file uploads at once', () => {
  it('uploads at most two request files at a time however many chunks ask at once, and every one goes up', async () => {
    fixture = await createGeminiFixture({});
    const current = fixture;
    const client = current.emulator.client;
    let inFlight = 0;
    let most = 0;
    const realUpload = client.files.upload.bind(client.files);
    // The real SDK over HTTP, counted: how many of its uploads are under way at once.
    const counted = Object.create(client) as typeof client;
    Object.defineProperty(counted, 'files', {
      value: Object.assign(Object.create(client.files) as typeof client.files, {
        upload: async (parameters: Parameters<typeof realUpload>[0]) => {
          inFlight += 1;
          most = Math.max(most, inFlight);
          try {
            return await realUpload(parameters);
          } finally {
            inFlight -= 1;
          }
        },
      }),
    });
    const uploader = createRequestFileUploader({ client: counted, workspaceDirectory: current.workspaceDirectory, configuredMimeType: 'application/json', retry: { policy: defaultRetryPolicy, environment: current.environment }, now: Date.now, logger: current.logger });
    const paths = await Promise.all(
      Array.from({ length: 6 }, async (_unused, index) => {
        const path = join(current.workspaceDirectory, `request-${index}.jsonl`);
        await writeFile(path, `${JSON.stringify({ key: `k${index}`, request: { contents: [{ parts: [{ text: 'x'.repeat(100_000) }] }] } })}\n`);
        return path;
      }),
    );
    const uploads = await Promise.all(paths.map((path, index) => uploader.upload({ path, displayName: `request-${index}` })));
    expect(uploads.every((upload) => upload.status === 'uploaded')).toBe(true);
    expect(most).toBe(2);
    expect((await readUploadStats(current)).uploads).toBe(6);
  });
});
