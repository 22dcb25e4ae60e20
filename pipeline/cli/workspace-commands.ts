import { resolve } from 'node:path';
import { readConfigFile, resolveConfig, type ConfigFlags } from '../config/load-config.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { exitCodeFor, exitCodes } from '../../lib/errors.ts';
import { formatCommand } from '../format-command.ts';
import { formatCount } from '../../lib/format-count.ts';
import { cancelWorkspaceJob, cleanWorkspaceFiles, listWorkspaceJobs } from '../../lib/gemini/workspace-jobs.ts';
import { readUploadRecords } from '../../lib/gemini/upload-registry.ts';
import type { Logger } from '../../lib/logger.ts';
import type { BackendResolution } from '../connect-backend.ts';
import { callWithRetry } from '../../lib/gemini/call-with-retry.ts';
import type { ConnectedBackend } from '../pipeline-context.ts';
import { withWorkspaceBackend } from '../with-workspace-backend.ts';
import { isJobSettled, readWorkspaceStatus, requireWorkspace, type WorkspaceStatus } from '../workspace-status.ts';
import { dropStoredAnswers, formatByteCount, measureStoredAnswers, type StoredAnswersSize } from '../../lib/store/stored-answers.ts';
import { acquireWorkspaceLock } from '../../lib/store/workspace-lock.ts';
import { reportCommandError } from './report-command-error.ts';

export interface WorkspaceCommandOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  flags: ConfigFlags & { config?: string; json?: boolean; answers?: boolean };
}

async function loadConfig(options: WorkspaceCommandOptions): Promise<ChargenConfig> {
  const file = await readConfigFile({ cwd: options.cwd, ...(options.flags.config ? { path: options.flags.config } : {}) });
  return resolveConfig({ ...(file ? { file } : {}), env: options.env, flags: options.flags });
}

/** Runs `work` with the workspace's backend connected; ChargenErrors become their message and exit code. */
async function withBackend(
  options: WorkspaceCommandOptions & { config?: ChargenConfig },
  work: (context: { backend: ConnectedBackend; workspaceId: string }) => Promise<number>,
): Promise<number> {
  try {
    const config = options.config ?? (await loadConfig(options));
    return await withWorkspaceBackend({ cwd: options.cwd, env: options.env, config, logger: options.logger }, work);
  } catch (error) {
    return reportCommandError(options.logger, error);
  }
}

/** Asks the API the state of the open jobs this shell can ask about (its backend's, when it outlives a process). */
async function lookUpOpenJobs(options: WorkspaceCommandOptions & { config: ChargenConfig }, status: WorkspaceStatus & { resolution: BackendResolution }): Promise<number> {
  const { resolution } = status;
  const open = status.jobs.filter((job) => job.name && !isJobSettled(job.state) && job.backend === resolution.identity);
  if (open.length === 0 || resolution.builtIn || resolution.unavailable) return exitCodes.done;
  return withBackend(options, async ({ backend }) => {
    for (const job of open) {
      const live = await callWithRetry({ operation: `batches.get ${job.name}`, call: () => backend.backend.client.batches.get({ name: job.name as string }), ...backend.retry });
      job.state = String(live.state ?? job.state);
    }
    return exitCodes.done;
  });
}

/** Each backend the workspace holds answers or jobs of, with its jobs; the one this shell uses says why. */
function printBackends(logger: Logger, status: WorkspaceStatus): void {
  for (const backend of status.backends) {
    const why = backend.current ? status.backendReason : "not this shell's backend";
    const held = backend.uploadedBytes > 0 ? `, ${formatByteCount(backend.uploadedBytes)} of images held on its Files API` : '';
    logger.print(`${backend.label} (${why}): ${formatCount(backend.answers, 'answer')} kept, ${formatCount(backend.jobs, 'batch job')}${held}`);
    for (const job of status.jobs.filter((candidate) => candidate.backend === backend.identity)) {
      const state = job.note ? `${job.state} (${job.note})` : job.state;
      logger.print(`  job ${job.name ?? '(not created)'} ${job.displayName}: ${state}, ${formatCount(job.requests, 'request')}, created ${job.createdAt}`);
      if (job.straggler) logger.print(`    ${job.straggler}`);
    }
  }
}

/**
 * `chargen status`: the stages' checkpoints and this workspace's batch jobs. Jobs not finished are looked up live
 * (when the backend outlives a process), so a `--detach`ed run can be followed; exit 4 while any still runs.
 */
export async function runStatusCommand(options: WorkspaceCommandOptions): Promise<number> {
  try {
    const config = await loadConfig(options);
    const status = await readWorkspaceStatus({ cwd: options.cwd, env: options.env, config });
    const code = await lookUpOpenJobs({ ...options, config }, status);
    if (code !== exitCodes.done) return code;
    const pending = status.jobs.some((job) => !isJobSettled(job.state));
    const exitCode = exitCodeFor({ status: pending ? 'pending' : 'done' });
    const { resolution: _resolution, ...printable } = status;
    const storedAnswers = await measureStoredAnswers({ workspaceDirectory: status.workspaceDirectory });
    if (options.flags.json) {
      options.logger.print(JSON.stringify({ exitCode, ...printable, storedAnswers }));
      return exitCode;
    }
    options.logger.print(`workspace ${status.workspaceDirectory}`);
    for (const [name, stage] of Object.entries(status.stages)) {
      options.logger.print(`  ${name}: ${stage.checkpoint ? `${stage.items} done${stage.failed > 0 ? `, ${stage.failed} failed` : ''}` : 'not run yet'}`);
    }
    printBackends(options.logger, status);
    printStoredAnswers(options.logger, storedAnswers);
    if (pending) options.logger.print(`Jobs may still be running: \`${formatCommand('run', options.flags)}\` picks up their results when they finish.`);
    return exitCode;
  } catch (error) {
    return reportCommandError(options.logger, error);
  }
}

/** `chargen jobs list`: this workspace's jobs as the API lists them. */
export async function runJobsListCommand(options: WorkspaceCommandOptions): Promise<number> {
  return withBackend(options, async ({ backend, workspaceId }) => {
    const { retry } = backend;
    const jobs = await listWorkspaceJobs({ client: backend.backend.client, retry, workspaceId });
    if (options.flags.json) options.logger.print(JSON.stringify({ exitCode: 0, jobs }));
    else if (jobs.length === 0) options.logger.print('No batch jobs of this workspace on the API.');
    else for (const job of jobs) options.logger.print(`${job.name}  ${job.state}  ${job.displayName}  ${job.createTime ?? ''}`);
    return exitCodes.done;
  });
}

/** `chargen jobs cancel <name>`: cancels one of this workspace's jobs (never another's). */
export async function runJobsCancelCommand(options: WorkspaceCommandOptions & { name: string }): Promise<number> {
  return withBackend(options, async ({ backend, workspaceId }) => {
    const job = await cancelWorkspaceJob({ client: backend.backend.client, retry: backend.retry, workspaceId, name: options.name });
    options.logger.print(`cancel asked for ${job.name} (${job.displayName}); a job that already finished keeps its results`);
    return exitCodes.done;
  });
}

// Stored answers (issue 15): what `status` says of them and what `clean --answers` costs.
function printStoredAnswers(logger: Logger, size: StoredAnswersSize): void {
  const files = `${size.files} file${size.files === 1 ? '' : 's'}`;
  logger.print(`  stored answers: ${formatByteCount(size.bytes)} in ${files} (received images and their signatures)${size.files > 0 ? '; `chargen clean --answers` drops them' : ''}`);
}

/** Drops the stored answers under the workspace lock (a run placing images from them must not lose them midway). */
async function cleanStoredAnswers(options: WorkspaceCommandOptions): Promise<StoredAnswersSize> {
  const config = await loadConfig(options);
  const workspaceDirectory = resolve(options.cwd, config.workdir);
  await requireWorkspace(workspaceDirectory);
  const lock = await acquireWorkspaceLock({ directory: workspaceDirectory, command: 'clean --answers', now: Date.now });
  try {
    const size = await measureStoredAnswers({ workspaceDirectory });
    options.logger.warn(
      `clean --answers: deleting the received images and their signatures (${formatByteCount(size.bytes)} in ${size.files} files). Outputs already in place stay, but every image not in place ` +
        '(another output folder, a template or setting changed back, an image deleted by hand) will be asked for, and paid for, again.',
    );
    return await dropStoredAnswers({ workspaceDirectory });
  } finally {
    await lock.release();
  }
}

/**
 * `chargen clean`: deletes what this workspace put on the Files API, so the project's storage quota is free again;
 * with `--answers`, also the received images kept in the workspace.
 */
export async function runCleanCommand(options: WorkspaceCommandOptions): Promise<number> {
  let answers: StoredAnswersSize | undefined;
  if (options.flags.answers) {
    try {
      answers = await cleanStoredAnswers(options);
    } catch (error) {
      return reportCommandError(options.logger, error);
    }
  }
  return withBackend(options, async ({ backend }) => {
    const { retry } = backend;
    const uploads = await readUploadRecords({ stateDirectory: backend.stateDirectory });
    const report = await cleanWorkspaceFiles({ client: backend.backend.client, retry, workspaceDirectory: backend.stateDirectory, uploads });
    if (options.flags.json) options.logger.print(JSON.stringify({ exitCode: 0, ...report, ...(answers ? { answersDropped: answers } : {}) }));
    else {
      if (answers) options.logger.print(`clean: stored answers deleted (${formatByteCount(answers.bytes)} in ${formatCount(answers.files, 'file')})`);
      options.logger.print(`clean: ${formatCount(report.deleted.length, 'file')} deleted, ${report.gone.length} already gone, ${report.refused.length} left to expire on their own`);
      for (const refused of report.refused) options.logger.print(`  ${refused.name}: ${refused.reason}`);
    }
    return exitCodes.done;
  });
}
