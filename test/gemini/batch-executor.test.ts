import { afterEach, describe, expect, it } from 'vitest';
import { fingerprintChunk, formatDisplayName, planChunks } from '../../lib/gemini/plan-chunks.ts';
import { loadJobRecords, saveJobRecord } from '../../lib/gemini/job-record.ts';
import type { ResultLine } from '../../lib/gemini/read-result-lines.ts';
import { readResultLines } from '../../lib/gemini/read-result-lines.ts';
import { createGeminiFixture, createTextLines, type GeminiFixture } from '../support/gemini-fixture.ts';

let fixture: GeminiFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function setFaults(target: GeminiFixture, faults: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${target.emulator.baseUrl}/_emulator/faults`, { method: 'POST', body: JSON.stringify(faults) });
  expect(response.status).toBe(200);
}

describe('planChunks', () => {
  it('splits by line count and by bytes, keeping every line once and in order', () => {
    const lines = createTextLines(25);
    const byCount = planChunks({ lines, maxLines: 10, maxBytes: 10_000_000 });
    expect(byCount.map((chunk) => chunk.length)).toEqual([10, 10, 5]);
    const lineBytes = Buffer.byteLength(JSON.stringify(lines[0])) + 1;
    const byBytes = planChunks({ lines, maxLines: 1000, maxBytes: lineBytes * 4 + 2 });
    expect(byBytes.every((chunk) => chunk.length <= 4)).toBe(true);
    expect(byBytes.flat().map((line) => line.key)).toEqual(lines.map((line) => line.key));
  });

  it('puts a line larger than the byte limit in a chunk of its own rather than dropping it', () => {
    const lines = createTextLines(3);
    expect(planChunks({ lines, maxLines: 10, maxBytes: 10 }).map((chunk) => chunk.length)).toEqual([1, 1, 1]);
  });
});

describe('batch executor on the emulator', () => {
  it('answers every key through chunked jobs, and a second run sends nothing', async () => {
    fixture = await createGeminiFixture();
    const executor = fixture.createBatchExecutor({ settings: { chunkMaxLines: 40 } });
    const lines = createTextLines(100);
    const first = await executor.execute({ stage: 'analyze', model: 'gemini-3-flash-preview', lines });
    expect([...first.outcomes.values()].filter((outcome) => outcome.status === 'succeeded')).toHaveLength(100);
    expect(first.jobsCreated).toBe(3);
    const statsAfterFirst = await fixture.emulator.stats();
    expect(statsAfterFirst['batchesCreated']).toBe(3);
    expect(statsAfterFirst['requestsByModel']).toEqual({ 'gemini-3-flash-preview': 100 });

    const second = await fixture.createBatchExecutor({ settings: { chunkMaxLines: 40 } }).execute({ stage: 'analyze', model: 'gemini-3-flash-preview', lines });
    expect(second.cachedKeys).toBe(100);
    expect(second.sentLines).toBe(0);
    expect(await fixture.emulator.stats()).toEqual(statsAfterFirst);
  });

  it('adopts a job created before a crash instead of creating a second one', async () => {
    fixture = await createGeminiFixture();
    const lines = createTextLines(5);
    const executor = fixture.createBatchExecutor();
    const client = fixture.emulator.client;

    // Write the record as a crashed run leaves it, then create the job under its displayName as that run did.
    const keys = lines.map((line) => line.key);
    const fingerprint = fingerprintChunk({ model: 'gemini-3-flash-preview', keys });
    const displayName = formatDisplayName({ workspaceId: 'ws1', stage: 'analyze', fingerprint, attempt: 1 });
    const jsonl = lines.map((line) => JSON.stringify(line)).join('\n');
    const input = await client.files.upload({ file: new Blob([jsonl]), config: { mimeType: 'application/json' } });
    await client.batches.create({ model: 'gemini-3-flash-preview', src: input.name ?? '', config: { displayName } });
    await saveJobRecord(fixture.workspaceDirectory, {
      version: 1,
      displayName,
      stage: 'analyze',
      model: 'gemini-3-flash-preview',
      fingerprint,
      attempt: 1,
      keys,
      requestFile: 'requests/analyze/crashed.jsonl',
      inputFileName: input.name ?? 'files/x',
      status: 'preparing',
      createdAt: new Date(fixture.emulator.clock.now()).toISOString(),
    });

    const report = await executor.execute({ stage: 'analyze', model: 'gemini-3-flash-preview', lines });
    expect([...report.outcomes.values()].every((outcome) => outcome.status === 'succeeded')).toBe(true);
    expect(report.jobsAdopted).toBe(1);
    expect(report.jobsCreated).toBe(0);
    expect((await fixture.emulator.stats())['batchesCreated']).toBe(1);
    const records = await loadJobRecords(fixture.workspaceDirectory, 'analyze');
    expect(records).toHaveLength(1);
    expect(records[0]?.status).toBe('finished');
  });

  it('requeues the lines of EXPIRED and FAILED jobs and completes them in the next round', async () => {
    fixture = await createGeminiFixture();
    await setFaults(fixture, { jobOutcomes: [{ outcome: 'EXPIRED' }, { outcome: 'FAILED' }] });
    const report = await fixture.createBatchExecutor({ settings: { chunkMaxLines: 10 } }).execute({
      stage: 'analyze',
      model: 'gemini-3-flash-preview',
      lines: createTextLines(30),
    });
    expect([...report.outcomes.values()].filter((outcome) => outcome.status === 'succeeded')).toHaveLength(30);
    expect(report.jobsCreated).toBe(5);
    expect(fixture.logger.lines.some((line) => line.text.includes('ended JOB_STATE_EXPIRED'))).toBe(true);
    expect(fixture.logger.lines.some((line) => line.text.includes('ended JOB_STATE_FAILED'))).toBe(true);
  });

  it('makes every result behind a front end that redirects downloads and gzip-encodes them, in one download', async () => {
    fixture = await createGeminiFixture();
    // The emulator's default, as the real API's front end: 302 to /download/…, gzip with content-length the encoded
    // size. Before chargen read downloads through it, every one failed ("got 900 of 411 bytes") and no result came.
    expect(fixture.emulator.emulator.options.quirks).toMatchObject({ redirectDownloads: true, gzipResponses: true });
    const report = await fixture.createBatchExecutor().execute({ stage: 'analyze', model: 'gemini-3-flash-preview', lines: createTextLines(30) });
    expect([...report.outcomes.values()].filter((outcome) => outcome.status === 'succeeded')).toHaveLength(30);
    expect(report.jobsCreated).toBe(1);
    expect((await fixture.emulator.stats())['downloads']).toBe(1);
  });

  it('retries a download that is cut off midway, gzip-encoded behind the redirect', async () => {
    fixture = await createGeminiFixture();
    await setFaults(fixture, { cutDownloads: 1 });
    const report = await fixture.createBatchExecutor().execute({ stage: 'analyze', model: 'gemini-3-flash-preview', lines: createTextLines(20) });
    expect([...report.outcomes.values()].filter((outcome) => outcome.status === 'succeeded')).toHaveLength(20);
    expect((await fixture.emulator.stats())['downloads']).toBe(2);
  });

  it('detects keys missing from a result file and sends them again; order does not matter', async () => {
    fixture = await createGeminiFixture();
    let calls = 0;
    // A result reader that loses one line the first time and hands the rest back in reverse order.
    const lossyReader = async function* (path: string): AsyncIterable<ResultLine> {
      calls += 1;
      const all: ResultLine[] = [];
      for await (const line of readResultLines(path)) all.push(line);
      const kept = calls === 1 ? all.filter((line) => !(line.kind === 'response' && line.key === 'line-3')) : all;
      yield* kept.reverse();
    };
    const report = await fixture.createBatchExecutor({ readResults: lossyReader }).execute({
      stage: 'analyze',
      model: 'gemini-3-flash-preview',
      lines: createTextLines(8),
    });
    expect([...report.outcomes.values()].every((outcome) => outcome.status === 'succeeded')).toBe(true);
    expect(report.jobsCreated).toBe(2);
    expect((await fixture.emulator.stats())['requestsByModel']).toEqual({ 'gemini-3-flash-preview': 9 });
    const outcome = report.outcomes.get('line-5');
    expect(outcome?.status === 'succeeded' && JSON.stringify(outcome.response)).toContain('modelVersion');
  });

  it('dead-letters an answer the stage keeps rejecting, with its reason, after the rounds', async () => {
    fixture = await createGeminiFixture();
    const report = await fixture.createBatchExecutor({ settings: { maxRounds: 2 } }).execute({
      stage: 'analyze',
      model: 'gemini-3-flash-preview',
      lines: createTextLines(3),
      validate: () => ({ ok: false, reason: 'answer breaks the schema: age is missing', retryable: true }),
    });
    const failed = [...report.outcomes.values()];
    expect(failed.every((outcome) => outcome.status === 'failed' && outcome.reason.includes('age is missing (after 2 rounds)'))).toBe(true);
    expect(report.jobsCreated).toBe(2);
  });

  it('does not send again a line whose failure cannot be mended (a policy block)', async () => {
    fixture = await createGeminiFixture();
    const lines = createTextLines(2);
    (lines[0]!.request['contents'] as { parts: { text: string }[] }[])[0]!.parts[0]!.text += ' [[prompt-block]]';
    const executor = fixture.createBatchExecutor();
    const report = await executor.execute({ stage: 'analyze', model: 'gemini-3-flash-preview', lines });
    expect(report.outcomes.get('line-0')).toMatchObject({ status: 'failed', retryable: false, reason: 'prompt blocked: SAFETY' });
    expect(report.jobsCreated).toBe(1);
    const again = await fixture.createBatchExecutor().execute({ stage: 'analyze', model: 'gemini-3-flash-preview', lines });
    expect(again.sentLines).toBe(0);
  });
});
