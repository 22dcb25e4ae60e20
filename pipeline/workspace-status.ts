import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readAnalysisCheckpoint } from '../stages/analyze/analysis-checkpoint.ts';
import { readPromptsCheckpoint } from '../stages/compile/prompts-checkpoint.ts';
import { readSynthesizeCheckpoint } from '../stages/synthesize/synthesize-checkpoint.ts';
import type { ChargenConfig } from './config/chargen-config.ts';
import { resolveBackendIdentity } from './connect-backend.ts';
import { WorkspaceMissingError } from './errors.ts';
import { loadJobRecords, type JobRecord } from './gemini/job-record.ts';
import { stageNames, type StageName } from './steps/stage-step.ts';

export interface JobStatus {
  stage: StageName;
  displayName: string;
  name?: string;
  /** The record's view (`preparing`, `submitted`, `finished`) or, when asked live, the API's state. */
  state: string;
  requests: number;
  createdAt: string;
}

export interface WorkspaceStatus {
  workspaceDirectory: string;
  backend: string;
  stages: Record<StageName, { checkpoint: boolean; items: number; failed: number }>;
  jobs: JobStatus[];
}

/** Throws a clear error when the folder is not a chargen workspace (status, jobs and clean need one). */
export async function requireWorkspace(workspaceDirectory: string): Promise<void> {
  try {
    await access(join(workspaceDirectory, 'workspace.json'));
  } catch {
    throw new WorkspaceMissingError({ directory: workspaceDirectory });
  }
}

export function isJobSettled(state: string): boolean {
  return state === 'finished' || /SUCCEEDED|FAILED|CANCELLED|EXPIRED/.test(state);
}

/** What the workspace's checkpoints and job records say, without asking the API anything. */
export async function readWorkspaceStatus(options: { cwd: string; env: NodeJS.ProcessEnv; config: ChargenConfig }): Promise<WorkspaceStatus & { records: JobRecord[] }> {
  const workspaceDirectory = resolve(options.cwd, options.config.workdir);
  await requireWorkspace(workspaceDirectory);
  const backend = await resolveBackendIdentity({ choice: options.config.backend, cwd: options.cwd, env: options.env });
  const [analysis, prompts, synthesis] = await Promise.all([
    readAnalysisCheckpoint(workspaceDirectory),
    readPromptsCheckpoint(workspaceDirectory),
    readSynthesizeCheckpoint(workspaceDirectory),
  ]);
  const stateDirectory = join(workspaceDirectory, 'backends', backend);
  const records: JobRecord[] = [];
  for (const stage of stageNames) records.push(...(await loadJobRecords(stateDirectory, stage)));
  return {
    workspaceDirectory,
    backend,
    stages: {
      analyze: { checkpoint: analysis !== undefined, items: analysis?.records.length ?? 0, failed: analysis?.failures.length ?? 0 },
      compile: { checkpoint: prompts !== undefined, items: prompts?.prompts.length ?? 0, failed: 0 },
      synthesize: { checkpoint: synthesis !== undefined, items: synthesis?.outputs.length ?? 0, failed: synthesis?.failures.length ?? 0 },
    },
    jobs: records.map((record) => ({
      stage: record.stage as StageName,
      displayName: record.displayName,
      ...(record.jobName ? { name: record.jobName } : {}),
      state: record.status === 'finished' ? (record.finalState ?? 'finished') : record.status,
      requests: record.keys.length,
      createdAt: record.createdAt,
    })),
    records,
  };
}
