import { JobState, type GoogleGenAI } from '@google/genai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FaultConfigInput } from '../../emulator/fault-config.ts';
import { startTestEmulator, testApiKey, type TestEmulator } from '../support/start-test-emulator.ts';
import { expectApiError } from '../support/expect-rejection.ts';

let emulator: TestEmulator;
let workDirectory: string;
beforeAll(async () => {
  emulator = await startTestEmulator();
  workDirectory = await mkdtemp(join(tmpdir(), 'chargen-faults-test-'));
});
afterAll(async () => {
  await emulator.close();
  await rm(workDirectory, { recursive: true, force: true });
});
afterEach(async () => emulator.emulator.reset());

async function setFaults(faults: FaultConfigInput): Promise<Response> {
  return fetch(`${emulator.baseUrl}/_emulator/faults`, { method: 'POST', body: JSON.stringify(faults), headers: { 'content-type': 'application/json' } });
}


function inlineJob(client: GoogleGenAI, displayName: string) {
  return client.batches.create({ model: 'gemini-3-flash-preview', src: [{ contents: [{ role: 'user', parts: [{ text: displayName }] }] }], config: { displayName } });
}

describe('faults: endpoint answers', () => {
  it('answers 429 RESOURCE_EXHAUSTED with a RetryInfo when the rate is 1', async () => {
    expect((await setFaults({ endpoints: { 'models.generateContent': { rate429: 1 } }, retryDelaySeconds: 7 })).status).toBe(200);
    const error = await expectApiError(emulator.client.models.generateContent({ model: 'gemini-3-flash-preview', contents: 'x' }));
    expect(error.status).toBe(429);
    const body = JSON.parse(error.message) as { error: { status: string; details: { '@type': string; retryDelay?: string }[] } };
    expect(body.error.status).toBe('RESOURCE_EXHAUSTED');
    expect(body.error.details.find((detail) => detail['@type'].endsWith('google.rpc.RetryInfo'))?.retryDelay).toBe('7s');
    // Other endpoints are untouched.
    await expect(emulator.client.files.list({ config: { pageSize: 1 } })).resolves.toBeDefined();
  });

  it('answers 503 UNAVAILABLE, for every endpoint with "*"', async () => {
    await setFaults({ endpoints: { '*': { rate503: 1 } } });
    expect((await expectApiError(emulator.client.files.list({ config: { pageSize: 1 } }))).status).toBe(503);
    expect((await expectApiError(emulator.client.batches.get({ name: 'batches/x' }))).status).toBe(503);
  });

  it('injects roughly the asked share of faults, replayably from the seed', async () => {
    const outcomes = async () => {
      await setFaults({ seed: 'replay', endpoints: { 'files.list': { rate429: 0.3, rate503: 0.1 } } });
      const statuses: number[] = [];
      for (let index = 0; index < 200; index += 1) {
        const response = await emulator.request('/v1beta/files?pageSize=1');
        statuses.push(response.status);
      }
      return statuses;
    };
    const first = await outcomes();
    const count = (status: number) => first.filter((value) => value === status).length;
    expect(count(429)).toBeGreaterThan(35);
    expect(count(429)).toBeLessThan(85);
    expect(count(503)).toBeGreaterThan(5);
    expect(count(503)).toBeLessThan(40);
    expect(await outcomes()).toEqual(first);
  });

  it('lets the SDK retry through injected faults when it is asked to', async () => {
    await setFaults({ endpoints: { 'models.generateContent': { rate503: 0.5 } }, seed: 'retry' });
    const client = emulator.createClient();
    const retrying = new (client.constructor as new (options: object) => GoogleGenAI)({
      apiKey: testApiKey,
      apiVersion: 'v1beta',
      httpOptions: { baseUrl: emulator.baseUrl, retryOptions: { attempts: 10, initialDelay: 0.001, maxDelay: 0.002 } },
    });
    for (let index = 0; index < 5; index += 1) {
      await expect(retrying.models.generateContent({ model: 'gemini-3-flash-preview', contents: `x${index}` })).resolves.toBeDefined();
    }
  });

  it('delays answers, so that a client timeout fires', async () => {
    await setFaults({ endpoints: { 'files.list': { delayMilliseconds: 2000 } } });
    const impatient = emulator.createClient();
    const started = emulator.clock.now();
    const error = await impatient.files
      .list({ config: { pageSize: 1, httpOptions: { timeout: 100 } } })
      .then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(emulator.clock.now()).toBe(started);
  });

  it('rejects invalid fault settings, naming every bad field', async () => {
    const response = await setFaults({ lineErrorRate: 2, endpoints: { 'files.nope': { rate429: 1 } } } as unknown as FaultConfigInput);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).toContain('lineErrorRate');
    expect(body.error.message).toContain('endpoints');
  });
});

describe('faults: batch jobs and lines', () => {
  it.each([
    ['FAILED', JobState.JOB_STATE_FAILED],
    ['CANCELLED', JobState.JOB_STATE_CANCELLED],
    ['EXPIRED', JobState.JOB_STATE_EXPIRED],
  ] as const)('ends a matching job %s, with no results, and leaves the others alone', async (outcome, state) => {
    await setFaults({ jobOutcomes: [{ outcome, displayNameContains: 'doomed' }] });
    const doomed = await inlineJob(emulator.client, 'the-doomed-one');
    const fine = await inlineJob(emulator.client, 'a-fine-one');
    emulator.clock.advance(2000);
    const doomedJob = await emulator.client.batches.get({ name: doomed.name ?? '' });
    expect(doomedJob.state).toBe(state);
    expect(doomedJob.dest).toBeUndefined();
    expect((await emulator.client.batches.get({ name: fine.name ?? '' })).state).toBe(JobState.JOB_STATE_SUCCEEDED);
    const raw = (await (await emulator.request(`/v1beta/${doomed.name ?? ''}`)).json()) as { done: boolean; error: { code: number } };
    expect(raw.done).toBe(true);
    expect(raw.error.code).toBeGreaterThan(0);
  });

  it('keeps a stuck job PENDING until it expires after 48 hours', async () => {
    await setFaults({ jobOutcomes: [{ outcome: 'STUCK_PENDING' }] });
    const stuck = await inlineJob(emulator.client, 'stuck');
    emulator.clock.advance(47 * 3600 * 1000);
    expect((await emulator.client.batches.get({ name: stuck.name ?? '' })).state).toBe(JobState.JOB_STATE_PENDING);
    emulator.clock.advance(3600 * 1000);
    expect((await emulator.client.batches.get({ name: stuck.name ?? '' })).state).toBe(JobState.JOB_STATE_EXPIRED);
  });

  it('keeps a stuck job PENDING until a cancel lands, after the cancel latency; then CANCELLED with no results', async () => {
    await setFaults({ jobOutcomes: [{ outcome: 'STUCK_PENDING' }] });
    const stuck = await inlineJob(emulator.client, 'stuck-cancelled');
    emulator.clock.advance(60_000);
    await emulator.client.batches.cancel({ name: stuck.name ?? '' });
    expect((await emulator.client.batches.get({ name: stuck.name ?? '' })).state).toBe(JobState.JOB_STATE_PENDING);
    emulator.clock.advance(500);
    const cancelled = await emulator.client.batches.get({ name: stuck.name ?? '' });
    expect(cancelled.state).toBe(JobState.JOB_STATE_CANCELLED);
    expect(cancelled.dest).toBeUndefined();
  });

  it('loses a cancel to a job that finishes before the cancel would land (cancel is best effort)', async () => {
    const job = await inlineJob(emulator.client, 'finishes-first');
    emulator.clock.advance(1_800);
    await emulator.client.batches.cancel({ name: job.name ?? '' });
    emulator.clock.advance(1_000);
    const finished = await emulator.client.batches.get({ name: job.name ?? '' });
    expect(finished.state).toBe(JobState.JOB_STATE_SUCCEEDED);
    expect(finished.dest?.inlinedResponses).toHaveLength(1);
  });

  it('applies a rule to `count` jobs only', async () => {
    await setFaults({ jobOutcomes: [{ outcome: 'FAILED', count: 2 }] });
    const jobs = [await inlineJob(emulator.client, 'a'), await inlineJob(emulator.client, 'b'), await inlineJob(emulator.client, 'c')];
    emulator.clock.advance(2000);
    const states = await Promise.all(jobs.map(async (job) => (await emulator.client.batches.get({ name: job.name ?? '' })).state));
    expect(states).toEqual([JobState.JOB_STATE_FAILED, JobState.JOB_STATE_FAILED, JobState.JOB_STATE_SUCCEEDED]);
  });

  it('answers the asked share of lines with an INTERNAL (code 13) error', async () => {
    await setFaults({ lineErrorRate: 1 });
    const job = await inlineJob(emulator.client, 'lines');
    emulator.clock.advance(2000);
    const finished = await emulator.client.batches.get({ name: job.name ?? '' });
    expect(finished.dest?.inlinedResponses?.[0]?.error).toMatchObject({ code: 13 });
    const raw = (await (await emulator.request(`/v1beta/${job.name ?? ''}`)).json()) as { metadata: { batchStats: Record<string, string> } };
    expect(raw.metadata.batchStats).toEqual({ requestCount: '1', failedRequestCount: '1' });
  });

  it('cuts a download off mid-body', async () => {
    const lines = Array.from({ length: 50 }, (_unused, index) => JSON.stringify({ key: `k${index}`, request: { contents: [{ parts: [{ text: `line ${index}` }] }] } }));
    const input = await emulator.client.files.upload({ file: new Blob([lines.join('\n')]), config: { mimeType: 'application/json' } });
    const job = await emulator.client.batches.create({ model: 'gemini-3-flash-preview', src: input.name ?? '' });
    emulator.clock.advance(2000);
    const output = (await emulator.client.batches.get({ name: job.name ?? '' })).dest?.fileName ?? '';
    await setFaults({ cutDownloads: 1 });
    const cut = await emulator.request(`/v1beta/${output}:download?alt=media`);
    // Gzip-encoded (fetch accepts it): a cut of the encoded body is still a cut, not a short file.
    expect(cut.headers.get('content-encoding')).toBe('gzip');
    await expect(cut.arrayBuffer()).rejects.toThrow(/terminated/);
    const whole = await emulator.request(`/v1beta/${output}:download?alt=media`);
    const wholeText = await whole.text();
    const path = join(workDirectory, 'whole.jsonl');
    await emulator.client.files.download({ file: output, downloadPath: path });
    expect(await readFile(path, 'utf8')).toBe(wholeText);
    expect(wholeText.trimEnd().split('\n')).toHaveLength(50);
  });
});

describe('admin surface', () => {
  it('moves the clock, resets state, and reports stats', async () => {
    await emulator.client.files.upload({ file: new Blob(['abc']), config: { mimeType: 'text/plain' } });
    const moved = await fetch(`${emulator.baseUrl}/_emulator/clock`, { method: 'POST', body: JSON.stringify({ advanceMilliseconds: 49 * 3600 * 1000 }) });
    expect(((await moved.json()) as { offsetMilliseconds: number }).offsetMilliseconds).toBe(49 * 3600 * 1000);
    expect((await emulator.client.files.list({ config: { pageSize: 10 } })).page).toHaveLength(0);
    expect((await emulator.stats())['uploads']).toBe(1);
    expect((await fetch(`${emulator.baseUrl}/_emulator/reset`, { method: 'POST' })).status).toBe(200);
    const stats = await emulator.stats();
    expect(stats).toMatchObject({ uploads: 0, uploadedBytes: 0, batchesCreated: 0, generateContentCalls: 0, requestsByModel: {} });
    const faults = (await (await fetch(`${emulator.baseUrl}/_emulator/faults`)).json()) as { lineErrorRate: number };
    expect(faults.lineErrorRate).toBe(0);
  });

  it('answers JSON 404 for a path it does not serve', async () => {
    const response = await emulator.request('/v1beta/nothing/here');
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { status: string } }).error.status).toBe('NOT_FOUND');
  });
});
