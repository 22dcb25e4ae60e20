import { Command, CommanderError } from 'commander';
import { exitCodes } from '../../lib/errors.ts';
import { createStreamLogger, type Logger } from '../../lib/logger.ts';
import { readCodeVersion } from '../read-code-version.ts';
import { exitCodeHelp, type CliOptions, type CommandRegistration } from './command-registration.ts';
import { createTerminalLogger } from './create-terminal-logger.ts';
import { registerPipelineCommands } from './register-pipeline-commands.ts';
import { registerEmulatorCommand, registerUiCommand } from './register-server-commands.ts';
import { registerWorkspaceCommands } from './register-workspace-commands.ts';

export type { CliOptions };

/** The program itself: name, version, the exit codes after --help, and Commander's own lines through the logger. */
async function createProgram(logger: Logger): Promise<Command> {
  return new Command()
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
}

/** The command line: a thin layer over exported functions; it returns the exit code instead of exiting. */
export async function runCli(options: CliOptions): Promise<number> {
  const logger =
    options.logger ??
    (process.stderr.isTTY
      ? createTerminalLogger({ stdout: process.stdout, stderr: process.stderr, colour: !options.env['NO_COLOR'] })
      : createStreamLogger({ stdout: process.stdout, stderr: process.stderr }));
  let exitCode: number = exitCodes.done;
  const registration: CommandRegistration = {
    program: await createProgram(logger),
    cli: options,
    logger,
    setExitCode: (code) => void (exitCode = code),
  };
  // In the order `chargen --help` lists them.
  registerEmulatorCommand(registration);
  registerPipelineCommands(registration);
  registerWorkspaceCommands(registration);
  registerUiCommand(registration);

  // Bare `chargen` is a question (what does it do?), not a mistake: the help, on stdout, exit 0.
  if (options.argv.length <= 2) {
    registration.program.outputHelp();
    return exitCodes.done;
  }
  try {
    await registration.program.parseAsync([...options.argv]);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? exitCodes.done : exitCodes.usage;
    throw error;
  }
  return exitCode;
}
