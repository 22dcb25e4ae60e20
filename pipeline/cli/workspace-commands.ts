import { resolve } from 'node:path';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { exitCodes } from '../../lib/errors.ts';
import { formatCount } from '../../lib/format-count.ts';
import { cancelWorkspaceJob, cleanWorkspaceFiles, listWorkspaceJobs } from '../../lib/gemini/workspace-jobs.ts';
import { readUploadRecords } from '../../lib/gemini/upload-registry.ts';
import { cleanWorkspaceObjects } from '../../lib/vertex/clean-workspace-objects.ts';
import type { ConnectedBackend } from '../pipeline-context.ts';
import { withWorkspaceBackend } from '../with-workspace-backend.ts';
import { requireWorkspace } from '../workspace-status.ts';
import { dropStoredAnswers, formatByteCount, measureStoredAnswers, type StoredAnswersSize } from '../../lib/store/stored-answers.ts';
import { acquireWorkspaceLock } from '../../lib/store/workspace-lock.ts';
import { reportCommandError } from './report-command-error.ts';
import { loadConfig, type WorkspaceCommandOptions } from './status-command.ts';

export type { WorkspaceCommandOptions };

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
  return withBackend(options, async ({ backend, workspaceId }) => {
    const { retry } = backend;
    const { vertex } = backend.backend;
    const report = vertex
      ? await cleanWorkspaceObjects({ ...vertex, workspaceId, stateDirectory: backend.stateDirectory, retry, now: retry.environment.now })
      : await cleanWorkspaceFiles({ client: backend.backend.client, retry, workspaceDirectory: backend.stateDirectory, uploads: await readUploadRecords({ stateDirectory: backend.stateDirectory }) });
    if (options.flags.json) options.logger.print(JSON.stringify({ exitCode: 0, ...report, ...(answers ? { answersDropped: answers } : {}) }));
    else {
      if (answers) options.logger.print(`clean: stored answers deleted (${formatByteCount(answers.bytes)} in ${formatCount(answers.files, 'file')})`);
      const left = vertex ? 'not deleted (delete them in the bucket)' : 'left to expire on their own';
      options.logger.print(`clean: ${formatCount(report.deleted.length, vertex ? 'object' : 'file')} deleted, ${report.gone.length} already gone, ${report.refused.length} ${left}`);
      for (const refused of report.refused) options.logger.print(`  ${refused.name}: ${refused.reason}`);
    }
    return exitCodes.done;
  });
}
