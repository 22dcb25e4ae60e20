import { afterEach, describe, expect, it } from 'vitest';
import { JobState } from '@google/genai';
import { defaultRetryPolicy } from '../../lib/gemini/call-with-retry.ts';
import { cancelWorkspaceJob, cleanWorkspaceFiles, listWorkspaceJobs } from '../../lib/gemini/workspace-jobs.ts';
import { createGeminiFixture, createTextLines, type GeminiFixture } from '../support/gemini-fixture.ts';
import { createSamplePng } from '../support/sample-images.ts';

let fixture: GeminiFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

describe("a workspace's jobs and files", () => {
  it('lists only this workspace’s jobs, across pages', async () => {
    fixture = await createGeminiFixture();
    await fixture.createBatchExecutor({ settings: { chunkMaxLines: 1 } }).execute({ stage: 'analyze', model: 'gemini-3-flash-preview', lines: createTextLines(3) });
    await fixture.emulator.client.batches.create({ model: 'gemini-3-flash-preview', src: [{ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }], config: { displayName: 'someone-else' } });
    const retry = { policy: defaultRetryPolicy, environment: fixture.environment };
    const jobs = await listWorkspaceJobs({ client: fixture.emulator.client, workspaceId: 'ws1', retry });
    expect(jobs).toHaveLength(3);
    expect(jobs.every((job) => job.displayName.startsWith('chargen-ws1-analyze-') && job.state === JobState.JOB_STATE_SUCCEEDED)).toBe(true);
  });

  it('cancels a job of this workspace and refuses one of another', async () => {
    fixture = await createGeminiFixture();
    const client = fixture.emulator.client;
    const inline = [{ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }];
    const ours = await client.batches.create({ model: 'gemini-3-flash-preview', src: inline, config: { displayName: 'chargen-ws1-analyze-abc-1' } });
    const theirs = await client.batches.create({ model: 'gemini-3-flash-preview', src: inline, config: { displayName: 'other-tool-job' } });
    const retry = { policy: defaultRetryPolicy, environment: fixture.environment };
    await cancelWorkspaceJob({ client, workspaceId: 'ws1', name: ours.name ?? '', retry });
    fixture.emulator.clock.advance(500); // a cancel lands after the emulator's cancel latency
    expect((await client.batches.get({ name: ours.name ?? '' })).state).toBe(JobState.JOB_STATE_CANCELLED);
    await expect(cancelWorkspaceJob({ client, workspaceId: 'ws1', name: theirs.name ?? '', retry })).rejects.toThrow('not a job of this workspace');
    expect((await client.batches.get({ name: theirs.name ?? '' })).state).toBe(JobState.JOB_STATE_PENDING);
  });

  it('deletes its uploads and request files, and reports batch outputs the API will not delete', async () => {
    fixture = await createGeminiFixture();
    await fixture.createBatchExecutor().execute({ stage: 'analyze', model: 'gemini-3-flash-preview', lines: createTextLines(2) });
    const upload = await fixture.emulator.client.files.upload({ file: new Blob([createSamplePng('clean')]), config: { mimeType: 'image/png' } });
    const report = await cleanWorkspaceFiles({
      client: fixture.emulator.client,
      workspaceDirectory: fixture.workspaceDirectory,
      uploads: [{ sha256: 'a'.repeat(64), name: upload.name ?? '', uri: upload.uri ?? '', mimeType: 'image/png', sizeBytes: 1, expirationTime: upload.expirationTime ?? '' }],
      retry: { policy: defaultRetryPolicy, environment: fixture.environment },
    });
    expect(report.deleted).toEqual([upload.name]);
    // The run deleted its request file once the job had ended: clean finds it gone.
    expect(report.gone).toHaveLength(1);
    expect(report.refused).toHaveLength(1);
    expect(report.refused[0]?.name).toMatch(/^files\/batch-/);
    const remaining = await fixture.emulator.client.files.list({ config: { pageSize: 100 } });
    expect(remaining.page.filter((file) => file.source === 'UPLOADED')).toHaveLength(0);
  });
});
