import type { Command } from 'commander';
import type { CommandRegistration } from './command-registration.ts';
import type { WorkspaceCommandOptions } from './status-command.ts';

/** The options every workspace command takes: which workspace, which config, which backend. */
function addWorkspaceOptions(command: Command): Command {
  return command
    .option('--workdir <folder>', 'the workspace (default .chargen)')
    .option('--config <file>', 'config file (default chargen.config.json when present)')
    .option('--backend <backend>', 'auto, gemini, emulator or vertex');
}

/** The commands over one workspace and its backend: status, jobs list, jobs cancel, clean. */
export function registerWorkspaceCommands({ program, cli, logger, setExitCode }: CommandRegistration): void {
  const { cwd, env } = cli;
  addWorkspaceOptions(program.command('status').description("Show the stages' checkpoints and this workspace's batch jobs (live); exit 4 while jobs run."))
    .option('--json', 'print one JSON summary on stdout')
    .action(async (flags: WorkspaceCommandOptions['flags']) => {
      const { runStatusCommand } = await import('./status-command.ts');
      setExitCode(await runStatusCommand({ cwd, env, logger, flags }));
    });

  const jobs = program.command('jobs').description("This workspace's batch jobs on the API.");
  addWorkspaceOptions(jobs.command('list').description('list them'))
    .option('--json', 'print JSON on stdout')
    .action(async (flags: WorkspaceCommandOptions['flags']) => {
      const { runJobsListCommand } = await import('./workspace-commands.ts');
      setExitCode(await runJobsListCommand({ cwd, env, logger, flags }));
    });
  addWorkspaceOptions(jobs.command('cancel').description('cancel one (only a job of this workspace)').argument('<name>', 'its id (batches/…, or without batches/) or its display name, as `jobs list` shows them'))
    .action(async (name: string, flags: WorkspaceCommandOptions['flags']) => {
      const { runJobsCancelCommand } = await import('./workspace-commands.ts');
      setExitCode(await runJobsCancelCommand({ cwd, env, logger, flags, name }));
    });

  addWorkspaceOptions(program.command('clean').description('Delete the files this workspace uploaded to the Files API (they count against the storage quota).'))
    .option('--answers', 'also delete the received images kept in the workspace (any image not in place is then paid for again)')
    .option('--json', 'print JSON on stdout')
    .action(async (flags: WorkspaceCommandOptions['flags']) => {
      const { runCleanCommand } = await import('./workspace-commands.ts');
      setExitCode(await runCleanCommand({ cwd, env, logger, flags }));
    });
}
