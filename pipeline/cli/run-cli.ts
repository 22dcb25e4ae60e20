import { Command, CommanderError } from 'commander';
import { runEmulatorCommand } from './emulator-command.ts';
import { runRunCommand } from './run-command.ts';
import { createStreamLogger, type Logger } from '../logger.ts';

export interface CliOptions {
  argv: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Resolves when the user asks a long-running command to stop (SIGINT/SIGTERM by default). */
  waitForStop?: () => Promise<void>;
}

/** Exit codes, as the README lists them. */
export const exitCodes = { done: 0, error: 1, usage: 2, deadLettered: 3, pending: 4 } as const;

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

/** The command line: a thin layer over exported functions; it returns the exit code instead of exiting. */
export async function runCli(options: CliOptions): Promise<number> {
  const logger = options.logger ?? createStreamLogger({ stdout: process.stdout, stderr: process.stderr });
  let exitCode: number = exitCodes.done;
  const program = new Command()
    .name('chargen')
    .description('Consistent generated character art from folders of reference images, through the Gemini Batch API.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => logger.print(text.trimEnd()),
      writeErr: (text) => logger.error(text.trimEnd()),
    });

  program
    .command('emulator')
    .description('Serve the local Gemini API emulator (Files, generateContent, Batch) until interrupted.')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8787')
    .option('--pending-ms <ms>', 'how long a new batch job stays PENDING', '1000')
    .option('--running-ms <ms>', 'how long a batch job then stays RUNNING', '2000')
    .option('--faults <file>', 'JSON file of fault settings (see README: "Emulator faults")')
    .action(async (flags: Record<string, string | undefined>) => {
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
    .description('Bring the outputs up to date: analyze → compile → synthesize (this version: --only analyze).')
    .option('--input <folder>', 'the reference images', 'input_images')
    .option('--workdir <folder>', 'the workspace: checkpoints, caches, job records', '.chargen')
    .option('--only <stage>', 'run one stage from the upstream checkpoint: analyze or compile')
    .option('--backend <backend>', 'auto (the API with a key, else the built-in emulator), gemini, or emulator', 'auto')
    .option('--mode <mode>', 'batch (half price, minutes to hours) or sync (full price, seconds)', 'batch')
    .option('--json', 'print one JSON summary on stdout')
    .option('--dry-run', 'show what would be done (for compile: print the prompts) and spend nothing')
    .action(async (flags: Record<string, unknown>) => {
      exitCode = await runRunCommand({ cwd: options.cwd, env: options.env, logger, flags });
    });

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
