import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readAnalysisStateFrom } from '../stages/analyze/analysis-checkpoint.ts';
import { readSynthesisStateFrom } from '../stages/synthesize/synthesize-checkpoint.ts';
import { readCheckpointStore } from '../lib/store/checkpoint-store.ts';
import type { ChargenConfig } from '../schemas/chargen-config.ts';
import { resolveBackend, type BackendResolution } from './connect-backend.ts';
import { WorkspaceMissingError } from '../lib/errors.ts';
import { isRecordOpen, listWorkspaceBackends } from './list-workspace-backends.ts';
import type { StageName } from '../stages/stage-step.ts';
import { readLockHolder } from '../lib/store/workspace-lock.ts';
import { workspaceFilePath } from '../lib/store/workspace-layout.ts';
import { describeStraggler } from '../lib/gemini/describe-straggler.ts';

export interface JobStatus {
  stage: StageName;
  /** The backend the job was made on (see Backend.identity). */
  backend: string;
  displayName: string;
  name?: string;
  /** The record's view (`preparing`, `submitted`, `finished`) or, when asked live, the API's state. */
  state: string;
  requests: number;
  createdAt: string;
  /** Why the state is the record's, not the API's (this shell cannot ask that backend). */
  note?: string;
  /** Still PENDING at this moment, the job is cancelled and replaced (gemini.pendingDeadlineMilliseconds). */
  pendingDeadlineAt?: string;
  /** Its deadline and what became of it as a straggler (describe-straggler.ts), when there is something to say. */
  straggler?: string;
}

export interface BackendStatus {
  identity: string;
  label: string;
  /** The backend this shell's commands use (see resolveBackend). */
  current: boolean;
  lastUsedAt?: string;
  answers: number;
  jobs: number;
  openJobs: number;
  /** Bytes of images held on its Files API now, as the upload registry knows them (deletions recorded). */
  uploadedBytes: number;
}

export interface WorkspaceStatus {
  workspaceDirectory: string;
  /** The backend this shell's commands use, and why. */
  backend: string;
  backendLabel: string;
  backendReason: string;
  backends: BackendStatus[];
  stages: Record<StageName, { checkpoint: boolean; items: number; failed: number }>;
  jobs: JobStatus[];
}

/** Throws a clear error when the folder is not a chargen workspace (status, jobs and clean need one). */
export async function requireWorkspace(workspaceDirectory: string): Promise<void> {
  try {
    await access(workspaceFilePath(workspaceDirectory));
  } catch {
    throw new WorkspaceMissingError({ directory: workspaceDirectory });
  }
}

/** `gone`: a job of the built-in emulator, which ended with the run that made it. */
export function isJobSettled(state: string): boolean {
  return state === 'finished' || state === 'gone' || /SUCCEEDED|FAILED|CANCELLED|EXPIRED/.test(state);
}

const goneNote = "the built-in emulator's jobs end with the run that made them; the next run sends their requests again, free";

/** Pure: why a job's state cannot be asked of its backend from this shell, or undefined when it can. */
export function explainUnaskable(options: { backend: string; resolution: BackendResolution }): string | undefined {
  const { resolution } = options;
  if (options.backend !== resolution.identity) return `not looked up: made on another backend than this shell's (${resolution.label})`;
  if (resolution.unavailable) return 'not looked up: no API key in this shell';
  return undefined;
}

/**
 * What the workspace's checkpoints and job records say, without asking the API anything: every backend it holds
 * answers or jobs of, each job with its backend, and the backend this shell's commands would use.
 */
export async function readWorkspaceStatus(options: { cwd: string; env: NodeJS.ProcessEnv; config: ChargenConfig }): Promise<WorkspaceStatus & { resolution: BackendResolution }> {
  const workspaceDirectory = resolve(options.cwd, options.config.workdir);
  await requireWorkspace(workspaceDirectory);
  const resolution = await resolveBackend({ choice: options.config.backend, vertex: options.config.vertex, cwd: options.cwd, env: options.env, workspaceDirectory });
  // Counted in the checkpoint database, never read whole: a run may be writing it (status then shows its progress).
  const checkpoints = readCheckpointStore(workspaceDirectory, (store) => ({
    analysis: readAnalysisStateFrom(store),
    prompts: store.readState('compile') ? store.count('compile', 'prompt') : undefined,
    synthesis: readSynthesisStateFrom(store),
  }));
  const { analysis, prompts, synthesis } = checkpoints ?? {};
  const backends = await listWorkspaceBackends(workspaceDirectory);
  // The built-in emulator runs inside a `chargen run`: with none holding the workspace, its open jobs are gone.
  const emulatorAlive = (await readLockHolder(workspaceDirectory)) !== undefined;
  const jobs = backends.flatMap((backend) =>
    backend.records.map((record): JobStatus => {
      const gone = backend.identity === 'emulator' && isRecordOpen(record) && !emulatorAlive;
      const note = gone ? goneNote : isRecordOpen(record) ? explainUnaskable({ backend: backend.identity, resolution }) : undefined;
      const straggler = describeStraggler(record);
      return {
        stage: record.stage as StageName,
        backend: backend.identity,
        displayName: record.displayName,
        ...(record.jobName ? { name: record.jobName } : {}),
        state: gone ? 'gone' : record.status === 'finished' ? (record.finalState ?? 'finished') : record.status,
        requests: record.keys.length,
        createdAt: record.createdAt,
        ...(note ? { note } : {}),
        ...(record.pendingDeadlineAt ? { pendingDeadlineAt: record.pendingDeadlineAt } : {}),
        ...(straggler ? { straggler } : {}),
      };
    }),
  );
  return {
    workspaceDirectory,
    backend: resolution.identity,
    backendLabel: resolution.label,
    backendReason: resolution.reason,
    backends: backends.map(({ records, ...backend }) => ({
      ...backend,
      current: backend.identity === resolution.identity,
      jobs: records.length,
      openJobs: jobs.filter((job) => job.backend === backend.identity && !isJobSettled(job.state)).length,
    })),
    stages: {
      analyze: { checkpoint: analysis !== undefined, items: analysis?.records ?? 0, failed: analysis?.failures ?? 0 },
      compile: { checkpoint: prompts !== undefined, items: prompts ?? 0, failed: 0 },
      synthesize: { checkpoint: synthesis !== undefined, items: synthesis?.outputs ?? 0, failed: synthesis?.failures ?? 0 },
    },
    jobs,
    resolution,
  };
}
