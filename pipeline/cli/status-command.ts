import { readConfigFile, resolveConfig, type ConfigFlags } from '../config/load-config.ts';
import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { exitCodeFor, exitCodes } from '../../lib/errors.ts';
import { formatCommand } from '../format-command.ts';
import { formatCount } from '../../lib/format-count.ts';
import type { Logger } from '../../lib/logger.ts';
import type { BackendResolution } from '../connect-backend.ts';
import { isJobSettled, readWorkspaceStatus, type WorkspaceStatus } from '../workspace-status.ts';
import { formatByteCount, measureStoredAnswers, type StoredAnswersSize } from '../../lib/store/stored-answers.ts';
import { reportCommandError } from './report-command-error.ts';

// `chargen status`, apart from the commands that reach the API (workspace-commands.ts): it loads no SDK unless a job
// is open on a backend this shell can ask, so that it starts as fast as the workspace can be read.

export interface WorkspaceCommandOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  flags: ConfigFlags & { config?: string; json?: boolean; answers?: boolean };
}

export async function loadConfig(options: WorkspaceCommandOptions): Promise<ChargenConfig> {
  const file = await readConfigFile({ cwd: options.cwd, ...(options.flags.config ? { path: options.flags.config } : {}) });
  return resolveConfig({ ...(file ? { file } : {}), env: options.env, flags: options.flags });
}

/** Asks the API the state of the open jobs this shell can ask about (its backend's, when it outlives a process). */
async function lookUpOpenJobs(options: WorkspaceCommandOptions & { config: ChargenConfig }, status: WorkspaceStatus & { resolution: BackendResolution }): Promise<number> {
  const { resolution } = status;
  const open = status.jobs.filter((job) => job.name && !isJobSettled(job.state) && job.backend === resolution.identity);
  if (open.length === 0 || resolution.builtIn || resolution.unavailable) return exitCodes.done;
  // Loaded only here: connecting a backend loads the SDK, which `status` with no job to ask about never needs.
  const { withWorkspaceBackend } = await import('../with-workspace-backend.ts');
  const { callWithRetry } = await import('../../lib/gemini/call-with-retry.ts');
  const { cwd, env, config, logger } = options;
  return withWorkspaceBackend({ cwd, env, config, logger }, async ({ backend }) => {
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

// Stored answers (issue 15): what `status` says of them and what `clean --answers` costs.
function printStoredAnswers(logger: Logger, size: StoredAnswersSize): void {
  const files = `${size.files} file${size.files === 1 ? '' : 's'}`;
  logger.print(`  stored answers: ${formatByteCount(size.bytes)} in ${files} (received images and their signatures)${size.files > 0 ? '; `chargen clean --answers` drops them' : ''}`);
}
