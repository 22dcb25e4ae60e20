import { Command, CommanderError } from 'commander';
import { createInterface } from 'node:readline/promises';
import { exitCodes } from '../../lib/errors.ts';
import type { WorkspaceCommandOptions } from './workspace-commands.ts';
import { createStreamLogger, type Logger } from '../../lib/logger.ts';
import { createTerminalLogger } from './create-terminal-logger.ts';
import { readCodeVersion } from '../read-code-version.ts';

export interface CliOptions {
  argv: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Resolves when the user asks a long-running command to stop (SIGINT/SIGTERM by default). */
  waitForStop?: () => Promise<void>;
  /** Asks yes or no on a terminal; absent when there is none (then spending above the limit needs --yes). */
  confirm?: (question: string) => Promise<boolean>;
}

const exitCodeHelp = `
Exit codes:
  0  done
  1  error
  2  usage, config or workspace error (the message says what to fix)
  3  done, but some items failed (dead-lettered; listed)
  4  jobs still pending (--detach, or interrupted): run again to pick them up`;


function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** A yes/no question on the terminal, when there is one to ask on (never in CI or a pipe). */
function createTerminalConfirm(): ((question: string) => Promise<boolean>) | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return async (question) => {
    const lines = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await lines.question(`${question} [y/N] `);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      lines.close();
    }
  };
}

// Each command's code is loaded when it runs: `extract` streams gigabytes in a small memory budget, and the modules
// of the other commands alone would take a quarter of it.

/** The command line: a thin layer over exported functions; it returns the exit code instead of exiting. */
export async function runCli(options: CliOptions): Promise<number> {
  const logger =
    options.logger ??
    (process.stderr.isTTY
      ? createTerminalLogger({ stdout: process.stdout, stderr: process.stderr, colour: !options.env['NO_COLOR'] })
      : createStreamLogger({ stdout: process.stdout, stderr: process.stderr }));
  let exitCode: number = exitCodes.done;
  const program = new Command()
    .name('chargen')
    .description('Consistent generated character art from folders of reference images, through the Gemini Batch API.')
    .version(await readCodeVersion(), '--version', 'print the version')
    .exitOverride()
    .addHelpText('after', exitCodeHelp)
    .configureOutput({
      writeOut: (text) => logger.print(text.trimEnd()),
      // Commander's messages carry their own "error: "; help shown after a mistake is not an error line.
      writeErr: (text) => {
        const message = /^error: ([\s\S]*)$/.exec(text.trimEnd());
        if (message?.[1] !== undefined) logger.error(message[1]);
        else logger.info(text.trimEnd());
      },
    });

  program
    .command('emulator')
    .description('Serve the local Gemini API emulator (Files, generateContent, Batch) until interrupted.')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8787')
    .option('--pending-ms <ms>', 'how long a new batch job stays PENDING', '1000')
    .option('--running-ms <ms>', 'how long a batch job then stays RUNNING', '2000')
    .option('--faults <file>', 'JSON file of fault settings (see docs/emulator.md, "Faults")')
    .action(async (flags: Record<string, string | undefined>) => {
      const { runEmulatorCommand } = await import('./emulator-command.ts');
      exitCode = await runEmulatorCommand({
        cwd: options.cwd,
        env: options.env,
        logger,
        flags,
        waitForStop: options.waitForStop ?? waitForSignal,
      });
    });

  program
    .command('run')
    .description('Bring the outputs up to date: analyze → compile → synthesize, each stage skipped when its checkpoint is current.')
    .option('--input <folder>', 'the reference images (default input_images)')
    .option('--out <folder>', 'where images and sidecars go (default final_characters)')
    .option('--workdir <folder>', 'the workspace: checkpoints, caches, job records (default .chargen)')
    .option('--config <file>', 'config file (default chargen.config.json when present)')
    .option('--from <stage>', 'recompute this stage and the ones after it: analyze, compile or synthesize')
    .option('--only <stage>', 'run one stage alone, from the current upstream checkpoint')
    .option('--backend <backend>', 'auto (the API with a key, else the built-in emulator), gemini, or emulator')
    .option('--mode <mode>', 'batch (half price, minutes to hours) or sync (full price, seconds)')
    .option('--detach', 'submit the batch jobs and exit with 4; a later run or status picks them up')
    .option('--dry-run', 'print the plan: items, cached, to send, jobs and estimated cost; spend nothing')
    .option('--yes', 'go ahead without asking, whatever the estimated spend')
    .option('--json', 'print one JSON summary on stdout')
    .option('--poll-interval <ms>', 'time between polls of a batch job')
    .addHelpText('after', exitCodeHelp)
    .action(async (flags: Record<string, unknown>) => {
      const controller = new AbortController();
      void (options.waitForStop ?? waitForSignal)().then(() => {
        logger.info('Stopping: finishing the current write and saving state (press Ctrl-C again to quit at once)…');
        controller.abort();
      });
      const { runRunCommand } = await import('./run-command.ts');
      const confirm = options.confirm ?? createTerminalConfirm();
      exitCode = await runRunCommand({
        cwd: options.cwd,
        env: options.env,
        logger,
        flags,
        signal: controller.signal,
        ...(confirm ? { confirm } : {}),
        command: ['run', ...options.argv.slice(3)].join(' '),
      });
    });

  program
    .command('doctor')
    .description('Check the configured backend at no cost, item by item: the key, each model, an upload, the batch list.')
    .option('--config <file>', 'config file (default chargen.config.json when present)')
    .option('--backend <backend>', 'auto, gemini or emulator')
    .option('--mode <mode>', 'batch or sync: the method each model is checked for')
    .option('--json', 'print one JSON report on stdout')
    .option('--probe', 'also create one tiny batch job and cancel it at once: proves the batch parser takes chargen\'s request lines (well under $0.001)')
    .option('--yes', 'go ahead with --probe without asking')
    .action(async (flags: Record<string, unknown>) => {
      const { runDoctorCommand } = await import('./doctor-command.ts');
      const confirm = options.confirm ?? createTerminalConfirm();
      exitCode = await runDoctorCommand({
        cwd: options.cwd,
        env: options.env,
        logger,
        flags,
        ...(confirm ? { confirm } : {}),
        ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
      });
    });

  program
    .command('extract')
    .description('Write the images of any batch result file (JSONL) to a folder, each with a JSON sidecar.')
    .argument('<results>', 'the result file, e.g. downloaded from AI Studio')
    .option('--out <folder>', 'where the images go (required)')
    .option('--keep-thoughts', "also keep the model's interim thought images")
    .option('--json', 'print one JSON summary on stdout')
    .action(async (resultFile: string, flags: { out?: string; json?: boolean; keepThoughts?: boolean }) => {
      const { runExtractCommand } = await import('./extract-command.ts');
      exitCode = await runExtractCommand({ cwd: options.cwd, logger, resultFile, flags });
    });

  const workspaceOptions = (command: Command) =>
    command
      .option('--workdir <folder>', 'the workspace (default .chargen)')
      .option('--config <file>', 'config file (default chargen.config.json when present)')
      .option('--backend <backend>', 'auto, gemini or emulator');

  workspaceOptions(program.command('status').description("Show the stages' checkpoints and this workspace's batch jobs (live); exit 4 while jobs run."))
    .option('--json', 'print one JSON summary on stdout')
    .action(async (flags: WorkspaceCommandOptions['flags']) => {
      const { runStatusCommand } = await import('./workspace-commands.ts');
      exitCode = await runStatusCommand({ cwd: options.cwd, env: options.env, logger, flags });
    });

  const jobs = program.command('jobs').description("This workspace's batch jobs on the API.");
  workspaceOptions(jobs.command('list').description('list them'))
    .option('--json', 'print JSON on stdout')
    .action(async (flags: WorkspaceCommandOptions['flags']) => {
      const { runJobsListCommand } = await import('./workspace-commands.ts');
      exitCode = await runJobsListCommand({ cwd: options.cwd, env: options.env, logger, flags });
    });
  workspaceOptions(jobs.command('cancel').description('cancel one (only a job of this workspace)').argument('<name>', 'its id (batches/…, or without batches/) or its display name, as `jobs list` shows them'))
    .action(async (name: string, flags: WorkspaceCommandOptions['flags']) => {
      const { runJobsCancelCommand } = await import('./workspace-commands.ts');
      exitCode = await runJobsCancelCommand({ cwd: options.cwd, env: options.env, logger, flags, name });
    });

  workspaceOptions(program.command('clean').description('Delete the files this workspace uploaded to the Files API (they count against the storage quota).'))
    .option('--answers', 'also delete the received images kept in the workspace (any image not in place is then paid for again)')
    .option('--json', 'print JSON on stdout')
    .action(async (flags: WorkspaceCommandOptions['flags']) => {
      const { runCleanCommand } = await import('./workspace-commands.ts');
      exitCode = await runCleanCommand({ cwd: options.cwd, env: options.env, logger, flags });
    });

  program
    .command('ui')
    .description("Serve the workspace's queue, dead letters and gallery in the browser, on 127.0.0.1, until interrupted.")
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8788')
    .option('--workdir <folder>', 'the workspace (default .chargen)')
    .option('--config <file>', 'config file (default chargen.config.json when present)')
    .option('--backend <backend>', 'auto, gemini or emulator')
    .option('--input <folder>', 'the reference images (default input_images)')
    .option('--out <folder>', 'the generated images (default final_characters)')
    .action(async (flags: Record<string, unknown>) => {
      const { runUiCommand } = await import('./ui-command.ts');
      exitCode = await runUiCommand({ cwd: options.cwd, env: options.env, logger, flags, waitForStop: options.waitForStop ?? waitForSignal });
    });

  // Bare `chargen` is a question (what does it do?), not a mistake: the help, on stdout, exit 0.
  if (options.argv.length <= 2) {
    program.outputHelp();
    return exitCodes.done;
  }
  try {
    await program.parseAsync([...options.argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? exitCodes.done : exitCodes.usage;
    }
    throw error;
  }
  return exitCode;
}
