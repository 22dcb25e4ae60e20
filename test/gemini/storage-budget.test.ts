import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStorageBudget } from '../../lib/gemini/storage-budget.ts';
import { loadJobRecords } from '../../lib/gemini/job-record.ts';
import { createGeminiFixture, createTextLines } from '../support/gemini-fixture.ts';
import { openUploadRegistry, readUploadRecords } from '../../lib/gemini/upload-registry.ts';

const sha = (digit: string) => digit.repeat(64);

describe('createStorageBudget', () => {
  it('grants reservations while they fit, in the order asked, and one larger than the budget alone', async () => {
    const budget = createStorageBudget({ budgetBytes: 100 });
    const first = await budget.reserve(60);
    const granted: string[] = [];
    const second = budget.reserve(60).then((giveBack) => (granted.push('second'), giveBack));
    // Fits, but asked after a reservation still waiting: it waits its turn.
    const third = budget.reserve(10).then((giveBack) => (granted.push('third'), giveBack));
    await Promise.resolve();
    expect(granted).toEqual([]);
    expect(budget.reservedBytes()).toBe(60);
    first();
    first();
    const [giveSecond, giveThird] = await Promise.all([second, third]);
    expect(granted).toEqual(['second', 'third']);
    expect(budget.reservedBytes()).toBe(70);
    giveSecond();
    giveThird();
    const huge = await budget.reserve(500);
    expect(budget.reservedBytes()).toBe(500);
    huge();
    expect(budget.peakBytes()).toBe(500);
    expect(budget.reservedBytes()).toBe(0);
  });
});

describe('request files in the storage budget', () => {
  it('uploads a job\'s request file within its part of the budget and deletes it once the job has ended', async () => {
    const fixture = await createGeminiFixture({ latency: { pendingMilliseconds: 1_000, runningMilliseconds: 1_000 } });
    try {
      const lines = createTextLines(40);
      // The size of one chunk's request file (5 lines), from a run of the same lines under another stage.
      await fixture.createBatchExecutor({ settings: { chunkMaxLines: 5 } }).execute({ stage: 'sizing', model: 'gemini-3-flash-preview', lines: lines.slice(0, 5) });
      const [sizing] = await loadJobRecords(fixture.workspaceDirectory, 'sizing');
      const fileBytes = (await stat(join(fixture.workspaceDirectory, sizing?.requestFile ?? ''))).size;
      // Room for two request files in the request files' part (an eighth of the budget), not three; the images' part unused.
      const storage = createStorageBudget({ budgetBytes: Math.floor(2.5 * fileBytes * 8) });
      expect(Math.floor(storage.requestFileBytes / fileBytes)).toBe(2);
      const client = fixture.emulator.client;
      const listRequestFiles = async () => {
        const held: number[] = [];
        // Result files (files/batch-…) are the API's, not uploads.
        for await (const file of await client.files.list({ config: { pageSize: 100 } })) if (!file.mimeType?.startsWith('image/') && !file.name?.startsWith('files/batch-')) held.push(Number(file.sizeBytes ?? 0));
        return held;
      };
      expect(await listRequestFiles()).toEqual([]);
      let most = 0;
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          most = Math.max(most, (await listRequestFiles()).length);
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      const report = await fixture.createBatchExecutor({ settings: { chunkMaxLines: 5, maxJobsInFlight: 8 }, storage }).execute({ stage: 'analyze', model: 'gemini-3-flash-preview', lines });
      watching = false;
      await watcher;
      expect([...report.outcomes.values()].filter((outcome) => outcome.status === 'succeeded')).toHaveLength(40);
      expect(report.jobsCreated).toBe(8);
      // Eight jobs allowed in flight, two request files at once: the budget, not the job limit, held them back.
      expect(most).toBe(2);
      expect(storage.peakBytes()).toBeLessThanOrEqual(storage.requestFileBytes);
      expect(storage.reservedBytes()).toBe(0);
      expect(await listRequestFiles()).toEqual([]);
    } finally {
      await fixture.close();
    }
  });
});

describe('request files never pass their part of the budget', () => {
  const lineBytes = (line: { key: string; request: unknown }) => Buffer.byteLength(JSON.stringify(line)) + 1;

  it('splits a chunk\'s lines into jobs whose request files fit the request files\' part, however many lines a job may take', async () => {
    const fixture = await createGeminiFixture({ latency: { pendingMilliseconds: 200, runningMilliseconds: 200 } });
    try {
      const lines = createTextLines(12);
      const largest = Math.max(...lines.map(lineBytes));
      // Room for three lines' request file in the request files' part; a job may take 100 lines.
      const storage = createStorageBudget({ budgetBytes: Math.floor(3.5 * largest * 8) });
      const report = await fixture.createBatchExecutor({ settings: { chunkMaxLines: 100, maxJobsInFlight: 8 }, storage }).execute({ stage: 'analyze', model: 'gemini-3-flash-preview', lines });
      expect([...report.outcomes.values()].filter((outcome) => outcome.status === 'succeeded')).toHaveLength(12);
      const records = await loadJobRecords(fixture.workspaceDirectory, 'analyze');
      expect(records).toHaveLength(4);
      for (const record of records) expect((await stat(join(fixture.workspaceDirectory, record.requestFile))).size).toBeLessThanOrEqual(storage.requestFileBytes);
      expect(storage.peakBytes()).toBeLessThanOrEqual(storage.requestFileBytes);
    } finally {
      await fixture.close();
    }
  });

  it('counts the request files of jobs an earlier run left pending from the start of the run that resumes them', async () => {
    const fixture = await createGeminiFixture({ latency: { pendingMilliseconds: 1_500, runningMilliseconds: 200 } });
    try {
      const lines = createTextLines(10);
      const settings = { chunkMaxLines: 5 };
      const first = await fixture.createBatchExecutor({ settings }).execute({ stage: 'analyze', model: 'gemini-3-flash-preview', lines, detach: true });
      expect(first.pendingJobs).toBe(2);
      const records = await loadJobRecords(fixture.workspaceDirectory, 'analyze');
      let uploadedBytes = 0;
      for (const record of records) uploadedBytes += (await stat(join(fixture.workspaceDirectory, record.requestFile))).size;
      // Room for one of the two files: they are on the API already, so both count at once (nothing waits on them).
      const storage = createStorageBudget({ budgetBytes: Math.floor((uploadedBytes / 2 + 10) * 8) });
      const second = await fixture.createBatchExecutor({ settings, storage }).execute({ stage: 'analyze', model: 'gemini-3-flash-preview', lines });
      expect([...second.outcomes.values()].filter((outcome) => outcome.status === 'succeeded')).toHaveLength(10);
      expect(second.jobsCreated).toBe(0);
      expect(storage.peakBytes()).toBe(uploadedBytes);
      expect(storage.reservedBytes()).toBe(0);
    } finally {
      await fixture.close();
    }
  });
});

describe('the upload registry records deletions', () => {
  it('a deleted file is held no more, never reused, and stays deleted when the registry is read again', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'chargen-registry-'));
    try {
      const now = Date.UTC(2026, 11, 1);
      const expirationTime = new Date(now + 47 * 3_600_000).toISOString();
      const registry = await openUploadRegistry({ stateDirectory: directory, requiredLifetimeMilliseconds: 0, now: () => now });
      for (const digit of ['a', 'b']) await registry.record({ sha256: sha(digit), name: `files/${digit}`, uri: `uri-${digit}`, mimeType: 'image/png', sizeBytes: 10, expirationTime });
      expect(registry.listHeld(now).map((record) => record.name)).toEqual(['files/a', 'files/b']);
      await registry.recordDeletion({ sha256: sha('a'), now });
      expect(registry.findUsable({ sha256: sha('a'), now })).toBeUndefined();
      expect(registry.findUsable({ sha256: sha('b'), now })?.name).toBe('files/b');
      expect(registry.listHeld(now).map((record) => record.name)).toEqual(['files/b']);
      // Past its expiration a file is held no more either.
      expect(registry.listHeld(now + 48 * 3_600_000)).toEqual([]);
      await registry.close();
      const reopened = await openUploadRegistry({ stateDirectory: directory, requiredLifetimeMilliseconds: 0, now: () => now });
      expect(reopened.findUsable({ sha256: sha('a'), now })).toBeUndefined();
      expect(reopened.listHeld(now).map((record) => record.name)).toEqual(['files/b']);
      await reopened.close();
      expect((await readUploadRecords({ stateDirectory: directory })).filter((record) => record.deletedAt !== undefined)).toHaveLength(1);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
