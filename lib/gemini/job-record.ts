import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from '../store/atomic-file.ts';
import { jobRecordDirectory } from '../store/workspace-layout.ts';

/**
 * The durable reference to one batch job, written before the job is created and updated as it moves on, so that
 * after a crash the job is found again (by its displayName) instead of being paid for twice.
 */
export const jobRecordSchema = z
  .object({
    version: z.literal(1),
    displayName: z.string().min(1),
    stage: z.string().min(1),
    model: z.string().min(1),
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
    attempt: z.number().int().min(1),
    keys: z.array(z.string().min(1)).min(1),
    /** The request JSONL, relative to the workspace. */
    requestFile: z.string().min(1),
    /** The uploaded request file: `files/…` on the Gemini API, `gs://…` on Vertex AI. */
    inputFileName: z.string().regex(/^(files\/|gs:\/\/)/).optional(),
    /** `batches/…` on the Gemini API, `projects/…/locations/…/batchPredictionJobs/…` on Vertex AI. */
    jobName: z.string().regex(/^(batches\/[^/]+|projects\/[^/]+\/locations\/[^/]+\/batchPredictionJobs\/[^/]+)$/).optional(),
    status: z.enum(['preparing', 'submitted', 'finished']),
    finalState: z.string().optional(),
    createdAt: z.iso.datetime(),
    // Stragglers (replace-straggler.ts); optional, so records written before them still read.
    /** When the job was created (or adopted) on the API. */
    submittedAt: z.iso.datetime().optional(),
    /** Still PENDING at this moment, the job is cancelled and its lines go into a new job. */
    pendingDeadlineAt: z.iso.datetime().optional(),
    /** Written before `batches.cancel` is called: a rerun finishes the replacement instead of waiting again. */
    cancelRequestedAt: z.iso.datetime().optional(),
    /** The displayName of the job that took over this one's unanswered lines. */
    replacedBy: z.string().min(1).optional(),
    /** The displayName of the straggler this job replaces. */
    replaces: z.string().min(1).optional(),
  })
  .strict();
export type JobRecord = z.infer<typeof jobRecordSchema>;

const fix = 'It is a chargen job record; if it was edited by hand, restore it or delete it (a deleted record makes chargen look the job up by its displayName).';

export { jobRecordDirectory };

export async function saveJobRecord(workspaceDirectory: string, record: JobRecord): Promise<void> {
  await writeJsonAtomic(join(jobRecordDirectory(workspaceDirectory, record.stage), `${record.displayName}.json`), record);
}

/** A stage's records one at a time, in name order: a caller that keeps part of each never holds them all. */
export async function* readJobRecords(workspaceDirectory: string, stage: string): AsyncGenerator<JobRecord> {
  const directory = jobRecordDirectory(workspaceDirectory, stage);
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const name of names.filter((entry) => entry.endsWith('.json')).sort()) {
    const record = await readJsonFile(join(directory, name), jobRecordSchema, fix);
    if (record) yield record;
  }
}

export async function loadJobRecords(workspaceDirectory: string, stage: string): Promise<JobRecord[]> {
  const records: JobRecord[] = [];
  for await (const record of readJobRecords(workspaceDirectory, stage)) records.push(record);
  return records;
}
