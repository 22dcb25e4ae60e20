import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DiskFullError, GeminiCallError } from '../../../lib/errors.ts';
import { toGeminiCallError } from '../../../lib/gemini/call-with-retry.ts';
import { loadJobRecords, saveJobRecord } from '../../../lib/gemini/job-record.ts';
import { isMissingFileError } from '../../../lib/gemini/line-outcome.ts';
import { downloadedResultPath } from '../../../lib/store/workspace-layout.ts';
import {
  contractStage,
  createKeyedLines,
  createMissingFileLine,
  downloadResultLines,
  followJob,
  keysOfKind,
  submitChunk,
  uploadChunk,
  type BatchServiceDefinition,
  type RunningBatchService,
} from './batch-service-steps.ts';

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected the call to reject'),
    (caught: unknown) => caught,
  );
}

/**
 * The contract every implementation of the BatchService port keeps (unstorage's `testDriver`, for the batch
 * executor's port): the same cases through the real clients over HTTP against the emulator, each driving the service
 * as the executor does (lib/gemini/submit-chunk.ts, poll-batch-job.ts, run-batch-job.ts) and reading its results with
 * the executor's own reader. What one backend alone has (Vertex AI's output layout) stays in that backend's file.
 */
export function testBatchService(definition: BatchServiceDefinition): void {
  describe(`BatchService: ${definition.name}`, () => {
    let started: RunningBatchService | undefined;
    const running = (): RunningBatchService => {
      if (!started) throw new Error(`${definition.name} did not start`);
      return started;
    };
    beforeAll(async () => {
      started = await definition.start();
    });
    afterAll(async () => started?.stop());
    afterEach(async () => started?.reset());

    it('adopts a job by its displayName after a crash, follows it to its results, and reads back every key as a response, no other', async () => {
      const { service, workspace } = running();
      const lines = createKeyedLines(6, 'round trip');
      const { record, jobName } = await submitChunk({ service, workspace, lines });
      // Another workspace's job (a displayName of another prefix): never offered for adoption here.
      const otherWorkspace = { directory: join(workspace.directory, 'other-workspace'), id: `${workspace.id}x` };
      await submitChunk({ service, workspace: otherWorkspace, lines: createKeyedLines(1, 'other workspace') });

      // The crash came between create and saving the job's name: the record is all a new process has.
      const records = await loadJobRecords(workspace.directory, contractStage);
      expect(records).toEqual([record]);
      expect(records[0]?.jobName).toBeUndefined();
      const listed = await service.listJobs({ workspaceId: workspace.id });
      expect(listed.map((job) => job.displayName)).toEqual([record.displayName]);
      expect(listed[0]?.name).toBe(jobName);
      expect(listed[0]?.state).toBe('JOB_STATE_PENDING');
      await saveJobRecord(workspace.directory, { ...record, jobName, status: 'submitted' });

      const { states, job } = await followJob({ running: running(), jobName, stepMilliseconds: 1_000 });
      expect(states).toEqual(['JOB_STATE_PENDING', 'JOB_STATE_RUNNING', 'JOB_STATE_SUCCEEDED']);
      expect(job.resultLocation).toMatch(running().resultLocationPattern);

      const results = await downloadResultLines({ running: running(), record, resultLocation: job.resultLocation ?? '' });
      expect(results).toHaveLength(lines.length);
      expect(keysOfKind(results, 'response')).toEqual(lines.map((line) => line.key).sort());
      for (const line of results) expect(line.kind === 'response' && Array.isArray(line.response['candidates'])).toBe(true);
    });

    it("brings a line the model answers with an error back as kind 'error' under its key, the others as responses", async () => {
      const { service, workspace } = running();
      const lines = createKeyedLines(3, 'beside an error');
      const failing = createMissingFileLine(running().missingFileUri);
      const { record, jobName } = await submitChunk({ service, workspace, lines: [failing, ...lines] });
      const { job } = await followJob({ running: running(), jobName, stepMilliseconds: 1_000 });
      expect(job.state).toBe('JOB_STATE_SUCCEEDED');

      const results = await downloadResultLines({ running: running(), record, resultLocation: job.resultLocation ?? '' });
      expect(results).toHaveLength(4);
      expect(keysOfKind(results, 'response')).toEqual(lines.map((line) => line.key).sort());
      expect(keysOfKind(results, 'error')).toEqual([failing.key]);
      const errorLine = results.find((line) => line.kind === 'error');
      expect(errorLine?.kind === 'error' ? errorLine.error : undefined).toMatchObject({ code: expect.any(Number), message: expect.any(String) });
      // The executor takes a missing reference for one to upload again, on every backend alike.
      expect(isMissingFileError(errorLine?.kind === 'error' ? errorLine.error : undefined)).toBe(true);
    });

    it('cancels a pending job: it reaches JOB_STATE_CANCELLED, with no results', async () => {
      const { service, workspace } = running();
      const { jobName } = await submitChunk({ service, workspace, lines: createKeyedLines(2, 'cancelled') });
      expect((await service.getJob(jobName)).state).toBe('JOB_STATE_PENDING');
      await service.cancelJob(jobName);
      // Steps shorter than the job's pending time: the cancel lands before the job would have started.
      const { states, job } = await followJob({ running: running(), jobName, stepMilliseconds: 250 });
      expect(states.at(-1)).toBe('JOB_STATE_CANCELLED');
      expect(states).not.toContain('JOB_STATE_RUNNING');
      expect(job.resultLocation).toBeUndefined();
    });

    it('deletes an uploaded request file; deleting it again answers as the executor takes for gone', async () => {
      const { service, workspace } = running();
      const record = await uploadChunk({ service, workspace, lines: createKeyedLines(2, 'deleted') });
      expect(await running().hasRequestFile(record.inputFileName)).toBe(true);
      await service.deleteRequestFile({ inputName: record.inputFileName, record });
      expect(await running().hasRequestFile(record.inputFileName)).toBe(false);

      const expected = running().deleteOfGoneRequestFile;
      const again = service.deleteRequestFile({ inputName: record.inputFileName, record });
      if (expected === 'resolves') {
        await expect(again).resolves.toBeUndefined();
      } else {
        const error = await rejectionOf(again);
        expect(error).toBeInstanceOf(GeminiCallError);
        expect((error as GeminiCallError).status).toBe(expected.rejectsWithStatus);
      }
    });

    it('answers no line of a job whose request file was deleted before create, in the way the executor recovers from', async () => {
      const { service, workspace } = running();
      const record = await uploadChunk({ service, workspace, lines: createKeyedLines(2, 'gone before create') });
      await service.deleteRequestFile({ inputName: record.inputFileName, record });
      const expected = running().createFromGoneRequestFile;
      const created = service.createJob(record);
      if ('rejectsWithStatus' in expected) {
        // submit-chunk.ts reads a 403 or 404 from create as the request file gone, and uploads it again.
        expect(toGeminiCallError('batches.create', await rejectionOf(created)).status).toBe(expected.rejectsWithStatus);
        return;
      }
      // A job that fails: run-batch-job.ts puts its lines (none answered) into the next round, under a new upload.
      const { job } = await followJob({ running: running(), jobName: await created, stepMilliseconds: 1_000 });
      expect(job.state).toBe(expected.jobEndsIn);
      if (job.resultLocation) expect(await downloadResultLines({ running: running(), record, resultLocation: job.resultLocation })).toEqual([]);
    });

    it('downloads within the room its slot holds: with no room and nothing to free it, a DiskFullError and no result file', async () => {
      const { service, workspace } = running();
      const { record, jobName } = await submitChunk({ service, workspace, lines: createKeyedLines(2, 'no room') });
      const { job } = await followJob({ running: running(), jobName, stepMilliseconds: 1_000 });
      const noRoom = downloadResultLines({ running: running(), record, resultLocation: job.resultLocation ?? '', readFreeBytes: async () => 0 });
      expect(await rejectionOf(noRoom)).toBeInstanceOf(DiskFullError);
      expect(existsSync(downloadedResultPath(workspace.directory, record.stage, record.displayName))).toBe(false);
    });

    it('rejects getJob of an unknown job with a GeminiCallError of status 404, not retryable', async () => {
      const error = await rejectionOf(running().service.getJob(running().unknownJobName));
      expect(error).toBeInstanceOf(GeminiCallError);
      expect(error).toMatchObject({ status: 404, isRetryable: false });
    });
  });
}
