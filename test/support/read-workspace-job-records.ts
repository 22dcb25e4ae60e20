import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadJobRecords, type JobRecord } from '../../lib/gemini/job-record.ts';

/** Every job record of a workspace, of every backend and stage, each validated as chargen reads it. */
export async function readWorkspaceJobRecords(workspaceDirectory: string): Promise<JobRecord[]> {
  const records: JobRecord[] = [];
  const backends = join(workspaceDirectory, 'backends');
  for (const backend of await readdir(backends).catch(() => [] as string[])) {
    const stages = await readdir(join(backends, backend, 'jobs')).catch(() => [] as string[]);
    for (const stage of stages) records.push(...(await loadJobRecords(join(backends, backend), stage)));
  }
  return records;
}
