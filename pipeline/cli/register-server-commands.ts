import { waitForSignal, type CommandRegistration } from './command-registration.ts';

/** `chargen emulator`: the local Gemini API emulator, served until stopped. */
export function registerEmulatorCommand({ program, cli, logger, setExitCode }: CommandRegistration): void {
  program
    .command('emulator')
    .description('Serve the local Gemini API emulator (Files, generateContent, Batch) until interrupted.')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8787')
    .option('--pending-ms <ms>', 'how long a new batch job stays PENDING', '1000')
    .option('--running-ms <ms>', 'how long a batch job then stays RUNNING', '2000')
    .option('--cancel-ms <ms>', 'how long a batch job takes to read CANCELLED after batches.cancel', '500')
    .option('--faults <file>', 'JSON file of fault settings (see docs/emulator.md, "Faults")')
    .action(async (flags: Record<string, string | undefined>) => {
      const { runEmulatorCommand } = await import('./emulator-command.ts');
      setExitCode(await runEmulatorCommand({ cwd: cli.cwd, env: cli.env, logger, flags, waitForStop: cli.waitForStop ?? waitForSignal }));
    });
}

/** `chargen ui`: the workspace in the browser, served until stopped. */
export function registerUiCommand({ program, cli, logger, setExitCode }: CommandRegistration): void {
  program
    .command('ui')
    .description("Serve the workspace's queue, dead letters and gallery in the browser, on 127.0.0.1, until interrupted.")
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8788')
    .option('--workdir <folder>', 'the workspace (default .chargen)')
    .option('--config <file>', 'config file (default chargen.config.json when present)')
    .option('--backend <backend>', 'auto, gemini, emulator or vertex')
    .option('--input <folder>', 'the reference images (default input_images)')
    .option('--out <folder>', 'the generated images (default final_characters)')
    .action(async (flags: Record<string, unknown>) => {
      const { runUiCommand } = await import('./ui-command.ts');
      setExitCode(await runUiCommand({ cwd: cli.cwd, env: cli.env, logger, flags, waitForStop: cli.waitForStop ?? waitForSignal }));
    });
}
