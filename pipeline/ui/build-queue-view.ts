import type { BatchJobView } from '../../lib/gemini/read-batch-job.ts';
import { stageNames, type StageName } from '../../stages/stage-step.ts';
import { isJobSettled } from '../workspace-status.ts';
import { describeStraggler } from '../../lib/gemini/describe-straggler.ts';
import type { WorkspaceFiles } from './read-workspace-files.ts';

export interface JobView {
  stage: string;
  displayName: string;
  /** `batches/…` once created. */
  name?: string;
  /** `PREPARING` (not created yet), `SUBMITTED` (no live state known), or the API's `JOB_STATE_…`. */
  state: string;
  settled: boolean;
  /** Whether `state` came from the API just now rather than from the workspace's record. */
  live: boolean;
  requests: number;
  succeeded?: number;
  failed?: number;
  pending?: number;
  createdAt: string;
  updatedAt: string;
  endedAt?: string;
  /** Why the API ended the job, when it said. */
  error?: string;
  /** Its pending deadline and what became of it as a straggler (describe-straggler.ts). */
  straggler?: string;
}

export interface StageView {
  name: StageName;
  status: 'not-run' | 'running' | 'done' | 'done-with-failures';
  items: number;
  failed: number;
  retryable: number;
}

export interface DeadLetterView {
  stage: StageName;
  source: string;
  variant?: number;
  reason: string;
  fix: string;
  retryable: boolean;
}

export interface RunView {
  /** A run holds the workspace now: this UI's own, or a `chargen run` elsewhere. */
  active: boolean;
  holder?: { pid: number; command: string; startedAt: string; thisUi: boolean };
  /** The last lines of the run this UI started (its own log; other processes log to their terminal). */
  log: string[];
  last?: { exitCode: number; message: string; finishedAt: string };
}

export interface QueueView {
  workspace: { directory: string; backend: string };
  stages: StageView[];
  jobs: JobView[];
  deadLetters: { total: number; retryable: number; shown: DeadLetterView[] };
  gallery: { total: number; done: number; failed: number; pending: number };
  run: RunView;
  cancel: { allowed: boolean; reason?: string };
}

/** Most dead letters sent to the page at once; the rest are counted (a run of 100k images can fail by thousands). */
export const deadLettersShown = 500;

const orphanedReason = 'the built-in emulator that ran it has stopped; `chargen run` sends its requests again';

function toJobView(entry: WorkspaceFiles['jobs'][number], lastLook: BatchJobView | undefined, runStates: ReadonlyMap<string, string>, orphaned: boolean): JobView {
  const { record, updatedAt } = entry;
  const finished = record.status === 'finished';
  const orphan = orphaned && !finished;
  // A look taken while the job still ran says nothing true of it once its record says it finished.
  const live = orphan || (finished && lastLook && !isJobSettled(lastLook.state)) ? undefined : lastLook;
  const recorded = finished ? (record.finalState ?? 'JOB_STATE_SUCCEEDED') : orphan ? 'INTERRUPTED' : record.status === 'preparing' ? 'PREPARING' : 'SUBMITTED';
  // The record is the truth once finished (or orphaned); before that the API (or this UI's own run) knows better.
  const fromRun = orphan || !record.jobName ? undefined : runStates.get(record.jobName);
  const state = finished || orphan ? recorded : (live?.state ?? fromRun ?? recorded);
  const settled = finished || orphan || isJobSettled(state);
  const endedAt = live?.endTime ?? (finished ? updatedAt : undefined);
  const error = live?.error ?? (orphan ? orphanedReason : undefined);
  const straggler = describeStraggler(record);
  return {
    stage: record.stage,
    displayName: record.displayName,
    ...(record.jobName ? { name: record.jobName } : {}),
    state,
    settled,
    live: !finished && (live !== undefined || fromRun !== undefined),
    requests: record.keys.length,
    ...(live?.succeededCount !== undefined ? { succeeded: live.succeededCount } : {}),
    ...(live?.failedCount !== undefined ? { failed: live.failedCount } : {}),
    ...(live?.pendingCount !== undefined ? { pending: live.pendingCount } : {}),
    createdAt: live?.createTime ?? record.createdAt,
    updatedAt: live?.updateTime ?? updatedAt,
    ...(endedAt ? { endedAt } : {}),
    ...(error ? { error } : {}),
    ...(straggler ? { straggler } : {}),
  };
}

/**
 * Pure: the queue as the page shows it, from the workspace's files, the API's latest word on unsettled jobs, and the
 * job states this UI's own run reported.
 */
export function buildQueueView(options: {
  files: WorkspaceFiles;
  workspaceDirectory: string;
  backend: string;
  live: ReadonlyMap<string, BatchJobView>;
  runStates: ReadonlyMap<string, string>;
  run: Omit<RunView, 'active' | 'holder'> & { pid: number; ownRun: boolean };
  cancel: QueueView['cancel'];
  gallery: QueueView['gallery'];
}): QueueView {
  const { files } = options;
  // The built-in emulator's jobs live only as long as the run that started it: with no run holding the workspace,
  // the unfinished ones are gone.
  const orphaned = options.backend === 'emulator' && files.lock === undefined && !options.run.ownRun;
  const jobs = files.jobs
    .map((entry) => toJobView(entry, entry.record.jobName ? options.live.get(entry.record.jobName) : undefined, options.runStates, orphaned))
    .sort((left, right) => left.createdAt.localeCompare(right.createdAt) || left.displayName.localeCompare(right.displayName));

  const deadLetters: DeadLetterView[] = [
    ...(files.analysis?.failures ?? []).map((failure) => ({ stage: 'analyze' as const, source: failure.sourcePath, reason: failure.reason, fix: failure.fix, retryable: failure.retryable === true })),
    ...(files.synthesis?.failures ?? []).map((failure) => ({ stage: 'synthesize' as const, source: failure.sourcePath, variant: failure.variant, reason: failure.reason, fix: failure.fix, retryable: failure.retryable })),
  ];

  const checkpoints = {
    analyze: files.analysis && { items: files.analysis.records.length, failures: files.analysis.failures.map((failure) => failure.retryable === true) },
    compile: files.prompts && { items: files.prompts.prompts.length, failures: [] as boolean[] },
    synthesize: files.synthesis && { items: files.synthesis.outputs.length, failures: files.synthesis.failures.map((failure) => failure.retryable) },
  };
  const stages = stageNames.map((name): StageView => {
    const checkpoint = checkpoints[name];
    const running = jobs.some((job) => job.stage === name && !job.settled);
    const failed = checkpoint?.failures.length ?? 0;
    const status = running ? 'running' : !checkpoint ? 'not-run' : failed > 0 ? 'done-with-failures' : 'done';
    return { name, status, items: checkpoint?.items ?? 0, failed, retryable: checkpoint?.failures.filter(Boolean).length ?? 0 };
  });

  const holder = files.lock;
  return {
    workspace: { directory: options.workspaceDirectory, backend: options.backend },
    stages,
    jobs,
    deadLetters: { total: deadLetters.length, retryable: deadLetters.filter((letter) => letter.retryable).length, shown: deadLetters.slice(0, deadLettersShown) },
    gallery: options.gallery,
    run: {
      active: holder !== undefined || options.run.ownRun,
      ...(holder ? { holder: { pid: holder.pid, command: holder.command, startedAt: holder.startedAt, thisUi: holder.pid === options.run.pid && options.run.ownRun } } : {}),
      log: options.run.log,
      ...(options.run.last ? { last: options.run.last } : {}),
    },
    cancel: options.cancel,
  };
}
