import type { GoogleGenAI } from '@google/genai';
import { readdir } from 'node:fs/promises';
import { UsageError } from '../errors.ts';
import { mapWithConcurrency } from '../map-with-concurrency.ts';
import { callWithRetry, toGeminiCallError, type RetryEnvironment, type RetryPolicy } from './call-with-retry.ts';
import { loadJobRecords, type JobRecord } from './job-record.ts';
import { deleteFileIfPresent } from './delete-uploads.ts';
import type { UploadRecord } from './upload-registry.ts';
import { jobsDirectory } from '../store/workspace-layout.ts';

export interface WorkspaceJob {
  name: string;
  displayName: string;
  state: string;
  model?: string;
  createTime?: string;
  updateTime?: string;
}

interface CallOptions {
  client: GoogleGenAI;
  retry: { policy: RetryPolicy; environment: RetryEnvironment };
}

export function workspaceJobPrefix(workspaceId: string): string {
  return `chargen-${workspaceId}-`;
}

/**
 * This workspace's batch jobs, found by their displayName on every page of `batches.list`, always asked with an
 * explicit pageSize: without one the API has been seen to answer no jobs at all (python-genai#1250).
 */
export async function listWorkspaceJobs(options: CallOptions & { workspaceId: string }): Promise<WorkspaceJob[]> {
  const prefix = workspaceJobPrefix(options.workspaceId);
  const call = <T>(run: () => Promise<T>) => callWithRetry({ operation: 'batches.list', call: run, ...options.retry });
  const pager = await call(() => options.client.batches.list({ config: { pageSize: 100 } }));
  const jobs: WorkspaceJob[] = [];
  for (;;) {
    for (const job of pager.page) {
      if (!job.name || !job.displayName?.startsWith(prefix)) continue;
      jobs.push({
        name: job.name,
        displayName: job.displayName,
        state: String(job.state ?? 'JOB_STATE_UNSPECIFIED'),
        ...(job.model ? { model: job.model } : {}),
        ...(job.createTime ? { createTime: job.createTime } : {}),
        ...(job.updateTime ? { updateTime: job.updateTime } : {}),
      });
    }
    if (!pager.hasNextPage()) return jobs;
    await call(() => pager.nextPage());
  }
}

/**
 * Pure: whether `given` names `job` as a user may write it: its full name (`batches/<id>`, or Vertex AI's
 * `projects/…/batchPredictionJobs/<id>`), the bare id, or its displayName.
 */
export function isNamedBy(job: Pick<WorkspaceJob, 'name' | 'displayName'>, given: string): boolean {
  const name = given.trim();
  return name === job.name || job.name.endsWith(`/${name}`) || name === job.displayName;
}

/** Cancels one of this workspace's jobs; a job of another workspace or tool is refused, not touched. */
export async function cancelWorkspaceJob(options: CallOptions & { workspaceId: string; name: string }): Promise<WorkspaceJob> {
  const jobs = await listWorkspaceJobs(options);
  const job = jobs.find((candidate) => isNamedBy(candidate, options.name));
  if (!job) {
    throw new UsageError({
      message: `${options.name} is not a job of this workspace (give its id, its full name, or its display name, chargen-${options.workspaceId}-…); see \`chargen jobs list\`.`,
    });
  }
  await callWithRetry({ operation: `batches.cancel ${job.name}`, call: () => options.client.batches.cancel({ name: job.name }), ...options.retry });
  return job;
}

export interface CleanReport {
  deleted: string[];
  /** Already expired or deleted. */
  gone: string[];
  /** The API would not delete them (batch output files, whose ids are over 40 characters); they expire by themselves. */
  refused: { name: string; reason: string }[];
}

async function listStages(workspaceDirectory: string): Promise<string[]> {
  try {
    return await readdir(jobsDirectory(workspaceDirectory));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** The job records of a backend's state folder that are not finished: their jobs may still need their files. */
export async function findOpenJobRecords(stateDirectory: string): Promise<JobRecord[]> {
  const open: JobRecord[] = [];
  for (const stage of await listStages(stateDirectory)) {
    for (const record of await loadJobRecords(stateDirectory, stage)) if (record.status !== 'finished') open.push(record);
  }
  return open;
}

/**
 * Deletes what this workspace put on the Files API (uploads, request files) and the results of its jobs, so that
 * its storage quota is free again. Files that are gone are fine; the 400 the API gives for the long `files/batch-…`
 * names is expected and reported, not an error.
 */
export async function cleanWorkspaceFiles(options: CallOptions & { workspaceDirectory: string; uploads: readonly UploadRecord[] }): Promise<CleanReport> {
  const names = new Set(options.uploads.map((upload) => upload.name));
  for (const stage of await listStages(options.workspaceDirectory)) {
    for (const record of await loadJobRecords(options.workspaceDirectory, stage)) {
      if (record.inputFileName) names.add(record.inputFileName);
      if (record.jobName) names.add(`files/batch-${record.jobName.slice('batches/'.length)}`);
    }
  }
  const report: CleanReport = { deleted: [], gone: [], refused: [] };
  await mapWithConcurrency({
    items: [...names].sort(),
    concurrency: 8,
    work: async (name) => {
      try {
        report[await deleteFileIfPresent({ client: options.client, name, retry: options.retry })].push(name);
      } catch (caught) {
        const error = toGeminiCallError(`files.delete ${name}`, caught);
        report.refused.push({ name, reason: error.status === 400 ? 'the API does not delete batch output files by name; it expires 48 h after the job' : error.message });
      }
    },
  });
  return report;
}
