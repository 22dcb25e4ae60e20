import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readAnalysisCheckpoint } from '../../stages/analyze/analysis-checkpoint.ts';
import type { AnalysisCheckpoint } from '../../stages/analyze/analysis-result.ts';
import { readPromptsCheckpoint, type PromptsCheckpoint } from '../../stages/compile/prompts-checkpoint.ts';
import { readSynthesizeCheckpoint, type SynthesizeCheckpoint } from '../../stages/synthesize/synthesize-checkpoint.ts';
import { checkpointDatabasePath } from '../../lib/store/workspace-layout.ts';
import { jobRecordDirectory, loadJobRecords, type JobRecord } from '../../lib/gemini/job-record.ts';
import { stageNames } from '../../stages/stage-step.ts';
import { readLockHolder, type LockHolder } from '../../lib/store/workspace-lock.ts';
import { requireWorkspace } from '../workspace-status.ts';
import { readChosenVersions } from '../../lib/store/image-version-store.ts';
import { regenerateStage } from '../regenerate/regenerate-queue.ts';

/** Everything the UI shows, as the workspace's files say it; each part validated in full by its own reader. */
export interface WorkspaceFiles {
  analysis: AnalysisCheckpoint | undefined;
  prompts: PromptsCheckpoint | undefined;
  synthesis: SynthesizeCheckpoint | undefined;
  jobs: { record: JobRecord; updatedAt: string }[];
  lock: LockHolder | undefined;
  /** The version the artist chose for an entry (entry id → its request key): current, whatever the prompts say now. */
  chosen?: Map<string, string>;
}

async function readSignature(path: string): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  return info ? `${info.ino}:${info.size}:${info.mtimeMs}` : 'absent';
}

/**
 * Re-reads the checkpoints only when their database (or its write-ahead log, where a run's commits land first) moved:
 * checkpoints of 100k images take a while to read.
 */
function cacheBySignature<T>(path: string, read: () => Promise<T>): () => Promise<T> {
  let last: { signature: string; value: Promise<T> } | undefined;
  return async () => {
    const signature = `${await readSignature(path)}/${await readSignature(`${path}-wal`)}`;
    if (last?.signature !== signature) {
      const value = read();
      last = { signature, value };
      // A failed read is not kept: the next look tries again (the file may be mid-repair).
      value.catch(() => {
        if (last?.value === value) last = undefined;
      });
    }
    return last.value;
  };
}

/**
 * A reader of one workspace that the UI asks every second: checkpoints are parsed again only when they change, job
 * records are few and read each time (with their file's mtime as the time they last changed).
 */
export interface WorkspaceFilesReader {
  read(): Promise<WorkspaceFiles>;
}

export function createWorkspaceFilesReader(options: { workspaceDirectory: string; stateDirectory: string }): WorkspaceFilesReader {
  const { workspaceDirectory, stateDirectory } = options;
  const database = checkpointDatabasePath(workspaceDirectory);
  const analysis = cacheBySignature(database, () => readAnalysisCheckpoint(workspaceDirectory));
  const prompts = cacheBySignature(database, () => readPromptsCheckpoint(workspaceDirectory));
  const synthesis = cacheBySignature(database, () => readSynthesizeCheckpoint(workspaceDirectory));
  const chosen = cacheBySignature(database, async () => new Map([...readChosenVersions(workspaceDirectory)].map(([entry, version]) => [entry, version.requestKey])));

  async function readJobs(): Promise<WorkspaceFiles['jobs']> {
    const jobs: WorkspaceFiles['jobs'] = [];
    // The artist's batches (chargen ui) are jobs of the workspace too.
    for (const stage of [...stageNames, regenerateStage]) {
      const directory = jobRecordDirectory(stateDirectory, stage);
      const records = await loadJobRecords(stateDirectory, stage);
      const times = new Map<string, string>();
      for (const name of await readdir(directory).catch(() => [] as string[])) {
        const info = await stat(join(directory, name)).catch(() => undefined);
        if (info) times.set(name, info.mtime.toISOString());
      }
      for (const record of records) jobs.push({ record, updatedAt: times.get(`${record.displayName}.json`) ?? record.createdAt });
    }
    return jobs;
  }

  return {
    async read() {
      await requireWorkspace(workspaceDirectory);
      const [analysisValue, promptsValue, synthesisValue, jobs, lock, chosenValue] = await Promise.all([analysis(), prompts(), synthesis(), readJobs(), readLockHolder(workspaceDirectory), chosen()]);
      return { analysis: analysisValue, prompts: promptsValue, synthesis: synthesisValue, jobs, lock, chosen: chosenValue };
    },
  };
}
