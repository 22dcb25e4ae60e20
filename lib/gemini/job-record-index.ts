import { readJobRecords, type JobRecord } from './job-record.ts';

/**
 * A stage's job records as one executor needs them, read from the workspace once per run rather than once per call:
 * every chunk's call used to parse every record of the stage with all its keys, which at 100,000 images is megabytes
 * read and held per call, for each of the calls under way at once. A finished job is kept as the few fields later
 * jobs are numbered and chained by; only unfinished jobs keep their keys (the runs still to follow them need those).
 *
 * The records are the objects the executor mutates and saves, so a job's status is read here as it is now.
 */
export interface JobRecordIndex {
  /** How many jobs were made for this chunk of lines (its fingerprint) before: the next one is numbered after them. */
  countAttempts(fingerprint: string): number;
  /** How many stragglers stand before this job (a replacement of a replacement is 2). */
  countReplacements(record: Pick<JobRecord, 'replaces'>): number;
  /** The display name of the job that took over a straggler's lines, if one was made. */
  findReplacement(displayName: string): string | undefined;
  /** Jobs not known to be finished: those of earlier runs to resume, and this run's still under way. */
  listUnfinished(): JobRecord[];
  add(record: JobRecord): void;
}

interface JobSummary {
  fingerprint: string;
  replaces: string | undefined;
}

/** Pure: the index over records already read (a test's, or the workspace's). */
export function createJobRecordIndex(records: Iterable<JobRecord>): JobRecordIndex {
  const summaries = new Map<string, JobSummary>();
  const attempts = new Map<string, number>();
  const replacements = new Map<string, string>();
  const unfinished = new Map<string, JobRecord>();
  const add = (record: JobRecord) => {
    if (summaries.has(record.displayName)) return;
    summaries.set(record.displayName, { fingerprint: record.fingerprint, replaces: record.replaces });
    attempts.set(record.fingerprint, (attempts.get(record.fingerprint) ?? 0) + 1);
    if (record.replaces !== undefined) replacements.set(record.replaces, record.displayName);
    if (record.status !== 'finished') unfinished.set(record.displayName, record);
  };
  for (const record of records) add(record);
  return {
    countAttempts: (fingerprint) => attempts.get(fingerprint) ?? 0,
    countReplacements(record) {
      let count = 0;
      let replaces = record.replaces;
      // Bounded by the records, whatever a hand-edited record says.
      while (replaces !== undefined && count <= summaries.size) {
        count += 1;
        replaces = summaries.get(replaces)?.replaces;
      }
      return count;
    },
    findReplacement: (displayName) => replacements.get(displayName),
    listUnfinished() {
      for (const [displayName, record] of unfinished) if (record.status === 'finished') unfinished.delete(displayName);
      return [...unfinished.values()];
    },
    add,
  };
}

/** The executor's indexes, one per stage, each read from the workspace's records the first time a call needs it. */
export function createJobRecordIndexes(options: { workspaceDirectory: string }): { forStage(stage: string): Promise<JobRecordIndex> } {
  const indexes = new Map<string, Promise<JobRecordIndex>>();
  return {
    forStage(stage) {
      let index = indexes.get(stage);
      if (!index) {
        index = (async () => {
          const created = createJobRecordIndex([]);
          for await (const record of readJobRecords(options.workspaceDirectory, stage)) created.add(record);
          return created;
        })();
        // A damaged record stops this call; the next one reads the records again rather than keep the failure.
        index.catch(() => indexes.delete(stage));
        indexes.set(stage, index);
      }
      return index;
    },
  };
}
