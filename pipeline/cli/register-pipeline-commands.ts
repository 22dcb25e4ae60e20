import { createTerminalConfirm, exitCodeHelp, waitForSignal, type CommandRegistration } from './command-registration.ts';

// Each command's code is loaded when it runs: `extract` streams gigabytes in a small memory budget, and the modules
// of the other commands alone would take a quarter of it.

/** `chargen run`: the pipeline, stopped resumably at the first SIGINT/SIGTERM. */
function registerRunCommand({ program, cli, logger, setExitCode }: CommandRegistration): void {
  program
    .command('run')
    .description('Bring the outputs up to date: analyze → compile → synthesize, each stage skipped when its checkpoint is current.')
    .option('--input <folder>', 'the reference images (default input_images)')
    .option('--out <folder>', 'where images and sidecars go (default final_characters)')
    .option('--workdir <folder>', 'the workspace: checkpoints, caches, job records (default .chargen)')
    .option('--config <file>', 'config file (default chargen.config.json when present)')
    .option('--from <stage>', 'recompute this stage and the ones after it: analyze, compile or synthesize')
    .option('--only <stage>', 'run one stage alone, from the current upstream checkpoint')
    .option('--backend <backend>', 'auto (the API with a key, else the built-in emulator), gemini, emulator, or vertex (Vertex AI: the config\'s vertex section)')
    .option('--mode <mode>', 'batch (half price, minutes to hours) or sync (full price, seconds)')
    .option('--detach', 'submit the batch jobs and exit with 4; a later run or status picks them up')
    .option('--dry-run', 'print the plan: items, cached, to send, jobs and estimated cost; spend nothing')
    .option('--yes', 'go ahead without asking, whatever the estimated spend')
    .option('--json', 'print one JSON summary on stdout')
    .option('--poll-interval <ms>', 'time between polls of a batch job')
    .addHelpText('after', exitCodeHelp)
    .action(async (flags: Record<string, unknown>) => {
      const controller = new AbortController();
      void (cli.waitForStop ?? waitForSignal)().then(() => {
        logger.info('Stopping: finishing the current write and saving state (press Ctrl-C again to quit at once)…');
        controller.abort();
      });
      const { runRunCommand } = await import('./run-command.ts');
      const confirm = cli.confirm ?? createTerminalConfirm();
      setExitCode(
        await runRunCommand({
          cwd: cli.cwd,
          env: cli.env,
          logger,
          flags,
          signal: controller.signal,
          ...(confirm ? { confirm } : {}),
          command: ['run', ...cli.argv.slice(3)].join(' '),
        }),
      );
    });
}

/** `chargen doctor`: the configured backend checked, item by item. */
function registerDoctorCommand({ program, cli, logger, setExitCode }: CommandRegistration): void {
  program
    .command('doctor')
    .description('Check the configured backend at no cost, item by item: the key, each model, an upload, the batch list (on Vertex AI: credentials, the bucket, each model, the batch list).')
    .option('--config <file>', 'config file (default chargen.config.json when present)')
    .option('--backend <backend>', 'auto, gemini, emulator or vertex')
    .option('--mode <mode>', 'batch or sync: the method each model is checked for')
    .option('--json', 'print one JSON report on stdout')
    .option('--probe', 'also create one tiny batch job and cancel it at once: proves the batch parser takes chargen\'s request lines (well under $0.001)')
    .option('--yes', 'go ahead with --probe without asking')
    .action(async (flags: Record<string, unknown>) => {
      const { runDoctorCommand } = await import('./doctor-command.ts');
      const confirm = cli.confirm ?? createTerminalConfirm();
      setExitCode(
        await runDoctorCommand({
          cwd: cli.cwd,
          env: cli.env,
          logger,
          flags,
          ...(confirm ? { confirm } : {}),
          ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
        }),
      );
    });
}

/** `chargen extract`: any batch result file's images, written to a folder. */
function registerExtractCommand({ program, cli, logger, setExitCode }: CommandRegistration): void {
  program
    .command('extract')
    .description('Write the images of any batch result file (JSONL) to a folder, each with a JSON sidecar.')
    .argument('<results>', 'the result file, e.g. downloaded from AI Studio')
    .option('--out <folder>', 'where the images go (required)')
    .option('--keep-thoughts', "also keep the model's interim thought images")
    .option('--json', 'print one JSON summary on stdout')
    .action(async (resultFile: string, flags: { out?: string; json?: boolean; keepThoughts?: boolean }) => {
      const { runExtractCommand } = await import('./extract-command.ts');
      setExitCode(await runExtractCommand({ cwd: cli.cwd, logger, resultFile, flags }));
    });
}

/** The commands that run the pipeline, check its backend, or read what a batch gave back: run, doctor, extract. */
export function registerPipelineCommands(registration: CommandRegistration): void {
  registerRunCommand(registration);
  registerDoctorCommand(registration);
  registerExtractCommand(registration);
}
