import type { ChargenConfig } from '../../schemas/chargen-config.ts';
import { ChargenError, exitCodeFor, UsageError, WorkspaceLockedError } from '../../lib/errors.ts';
import { cancelWorkspaceJob } from '../../lib/gemini/workspace-jobs.ts';
import type { Logger, ProgressEvent } from '../../lib/logger.ts';
import { describePlan, runPipeline } from '../run-pipeline.ts';
import type { StageName } from '../../stages/stage-step.ts';
import { withWorkspaceBackend } from '../with-workspace-backend.ts';
import { readLockHolder } from '../../lib/store/workspace-lock.ts';

/** Lines of this UI's run kept for the page. */
const runLogLines = 200;

export interface UiActions {
  /** What `chargen run [--from stage] --dry-run` would do: the page shows it before asking to go ahead. */
  plan(options: { from?: StageName }): Promise<{ lines: string[]; costUsd: number }>;
  /** Starts `chargen run [--from stage]` in this process; refused while any run holds the workspace. */
  startRun(options: { from?: StageName }): Promise<void>;
  /** `chargen jobs cancel <name>`. */
  cancelJob(name: string): Promise<{ name: string; displayName: string }>;
  view(): { ownRun: boolean; log: string[]; last?: { exitCode: number; message: string; finishedAt: string } };
  /** Job states this UI's own run has seen (the only live word on the built-in emulator's jobs). */
  runStates(): ReadonlyMap<string, string>;
  /** Stops this UI's run as Ctrl-C stops `chargen run`: saved and resumable. */
  stop(): Promise<void>;
}

/**
 * The page's actions, each the CLI's own function: runPipeline for `run`, cancelWorkspaceJob for `jobs cancel`. A run
 * started here holds the workspace lock like any other, and stops (resumably) when the UI does.
 */
export function createUiActions(options: {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Read again for every action, as each `chargen` command reads it: an edit to the config file counts from the next run. */
  loadConfig: () => Promise<ChargenConfig>;
  logger: Logger;
  workspaceDirectory: string;
  backend: string;
  now: () => number;
}): UiActions {
  const log: string[] = [];
  const states = new Map<string, string>();
  let running: { promise: Promise<void>; controller: AbortController } | undefined;
  let last: { exitCode: number; message: string; finishedAt: string } | undefined;

  const keep = (line: string) => {
    log.push(line);
    if (log.length > runLogLines) log.splice(0, log.length - runLogLines);
  };
  const runLogger: Logger = {
    print: (line) => (keep(line), options.logger.info(line)),
    info: (line) => (keep(line), options.logger.info(line)),
    warn: (line) => (keep(`warning: ${line}`), options.logger.warn(line)),
    error: (line) => (keep(`error: ${line}`), options.logger.error(line)),
    progress: (event: ProgressEvent) => {
      if (event.job) states.set(event.job.name, event.job.state);
    },
  };

  return {
    async plan({ from }) {
      // The dry run's own lines go to the terminal only: the page's run log is for runs.
      const summary = await runPipeline({ cwd: options.cwd, env: options.env, logger: options.logger, config: await options.loadConfig(), ...(from ? { from } : {}), dryRun: true });
      if (!summary.plan) throw new ChargenError({ code: 'plan-missing', message: 'The dry run gave no plan.' });
      return { lines: describePlan(summary.plan), costUsd: summary.plan.costUsd };
    },

    async startRun({ from }) {
      if (running) throw new WorkspaceLockedError({ message: 'A run started from this page is still going; wait for it to finish.' });
      // Claimed before the first await: two clicks at once must not both start a run.
      const controller = new AbortController();
      const claim: { promise: Promise<void>; controller: AbortController } = { promise: Promise.resolve(), controller };
      running = claim;
      let config: ChargenConfig;
      try {
        const holder = await readLockHolder(options.workspaceDirectory);
        if (holder) {
          throw new WorkspaceLockedError({ message: `The workspace is in use by process ${holder.pid} (\`chargen ${holder.command}\`, since ${holder.startedAt}); wait for it to finish.` });
        }
        config = await options.loadConfig();
      } catch (error) {
        running = undefined;
        throw error;
      }
      log.length = 0;
      keep(`chargen run${from ? ` --from ${from}` : ''} (started from the UI)`);
      claim.promise = runPipeline({
        cwd: options.cwd,
        env: options.env,
        logger: runLogger,
        config,
        ...(from ? { from } : {}),
        // The page showed the plan and its cost and the user said yes.
        yes: true,
        signal: controller.signal,
        command: `ui: run${from ? ` --from ${from}` : ''}`,
      })
        .then((summary) => {
          for (const letter of summary.deadLetter) keep(`failed (${letter.stage}) ${letter.source}: ${letter.reason}`);
          keep(summary.message);
          last = { exitCode: exitCodeFor(summary), message: summary.message, finishedAt: new Date(options.now()).toISOString() };
        })
        .catch((error: unknown) => {
          const message = error instanceof ChargenError ? error.message : `unexpected error: ${(error as Error).message}`;
          if (!(error instanceof ChargenError)) options.logger.error((error as Error).stack ?? message);
          keep(`error: ${message}`);
          last = { exitCode: exitCodeFor(error instanceof Error ? error : new Error(String(error))), message, finishedAt: new Date(options.now()).toISOString() };
        })
        .finally(() => {
          if (running === claim) running = undefined;
        });
    },

    async cancelJob(name) {
      if (options.backend === 'emulator') {
        // Connecting would start a fresh built-in emulator and void the job records of the one that ran.
        throw new UsageError({ message: "The built-in emulator's jobs end with the process that ran them; there is nothing to cancel. Cancel works against the API or a `chargen emulator` (CHARGEN_BASE_URL)." });
      }
      return withWorkspaceBackend({ cwd: options.cwd, env: options.env, config: await options.loadConfig(), logger: runLogger }, async ({ backend, workspaceId }) => {
        try {
          const job = await cancelWorkspaceJob({ client: backend.backend.client, retry: backend.retry, workspaceId, name });
          keep(`cancel asked for ${job.name} (${job.displayName})`);
          return { name: job.name, displayName: job.displayName };
        } catch (error) {
          if (error instanceof ChargenError) throw error;
          throw new UsageError({ message: (error as Error).message });
        }
      });
    },

    view: () => ({ ownRun: running !== undefined, log: [...log], ...(last ? { last } : {}) }),
    runStates: () => states,
    async stop() {
      if (!running) return;
      running.controller.abort();
      await running.promise;
    },
  };
}
