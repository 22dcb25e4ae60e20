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

type LastRun = { exitCode: number; message: string; finishedAt: string };

export interface UiActions {
  /** What `chargen run [--from stage] --dry-run` would do: the page shows it before asking to go ahead. */
  plan(options: { from?: StageName }): Promise<{ lines: string[]; costUsd: number }>;
  /** Starts `chargen run [--from stage]` in this process; refused while any run holds the workspace. */
  startRun(options: { from?: StageName }): Promise<void>;
  /** `chargen jobs cancel <name>`. */
  cancelJob(name: string): Promise<{ name: string; displayName: string }>;
  view(): { ownRun: boolean; log: string[]; last?: LastRun };
  /** Job states this UI's own run has seen (the only live word on the built-in emulator's jobs). */
  runStates(): ReadonlyMap<string, string>;
  /** Stops this UI's run as Ctrl-C stops `chargen run`: saved and resumable. */
  stop(): Promise<void>;
}

export interface UiActionsOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Read again for every action, as each `chargen` command reads it: an edit to the config file counts from the next run. */
  loadConfig: () => Promise<ChargenConfig>;
  logger: Logger;
  workspaceDirectory: string;
  backend: string;
  now: () => number;
}

/** The page's run log: its last lines, and the job states the run reported; every line also goes to the terminal. */
function createRunLog(terminal: Logger) {
  const lines: string[] = [];
  const states = new Map<string, string>();
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > runLogLines) lines.splice(0, lines.length - runLogLines);
  };
  const logger: Logger = {
    print: (line) => (keep(line), terminal.info(line)),
    info: (line) => (keep(line), terminal.info(line)),
    warn: (line) => (keep(`warning: ${line}`), terminal.warn(line)),
    error: (line) => (keep(`error: ${line}`), terminal.error(line)),
    progress: (event: ProgressEvent) => {
      if (event.job) states.set(event.job.name, event.job.state);
    },
  };
  return { lines, states, keep, logger, clear: () => void (lines.length = 0) };
}
type RunLog = ReturnType<typeof createRunLog>;

/** What the dry run says, for the page to show before it asks; its own lines go to the terminal only. */
async function planRun(options: UiActionsOptions, from: StageName | undefined): Promise<{ lines: string[]; costUsd: number }> {
  const summary = await runPipeline({ cwd: options.cwd, env: options.env, logger: options.logger, config: await options.loadConfig(), ...(from ? { from } : {}), dryRun: true });
  if (!summary.plan) throw new ChargenError({ code: 'plan-missing', message: 'The dry run gave no plan.' });
  return { lines: describePlan(summary.plan), costUsd: summary.plan.costUsd };
}

/** The run the page started, to its end: its dead letters and last line in the log, its exit code by `exitCodeFor`. */
async function runToEnd(options: UiActionsOptions & { config: ChargenConfig; from: StageName | undefined; runLog: RunLog; signal: AbortSignal }): Promise<LastRun> {
  const { from, runLog } = options;
  const finishedAt = () => new Date(options.now()).toISOString();
  try {
    const summary = await runPipeline({
      cwd: options.cwd,
      env: options.env,
      logger: runLog.logger,
      config: options.config,
      ...(from ? { from } : {}),
      // The page showed the plan and its cost and the user said yes.
      yes: true,
      signal: options.signal,
      command: `ui: run${from ? ` --from ${from}` : ''}`,
    });
    for (const letter of summary.deadLetter) runLog.keep(`failed (${letter.stage}) ${letter.source}: ${letter.reason}`);
    runLog.keep(summary.message);
    return { exitCode: exitCodeFor(summary), message: summary.message, finishedAt: finishedAt() };
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    const message = failure instanceof ChargenError ? failure.message : `unexpected error: ${failure.message}`;
    if (!(failure instanceof ChargenError)) options.logger.error(failure.stack ?? message);
    runLog.keep(`error: ${message}`);
    return { exitCode: exitCodeFor(failure), message, finishedAt: finishedAt() };
  }
}

/** `chargen jobs cancel` from the page; any failure that is no ChargenError is the user's (a job that is not there). */
async function cancelJob(options: UiActionsOptions, name: string, runLog: RunLog): Promise<{ name: string; displayName: string }> {
  if (options.backend === 'emulator') {
    // Connecting would start a fresh built-in emulator and void the job records of the one that ran.
    throw new UsageError({ message: "The built-in emulator's jobs end with the process that ran them; there is nothing to cancel. Cancel works against the API or a `chargen emulator` (CHARGEN_BASE_URL)." });
  }
  return withWorkspaceBackend({ cwd: options.cwd, env: options.env, config: await options.loadConfig(), logger: runLog.logger }, async ({ backend, workspaceId }) => {
    try {
      const job = await cancelWorkspaceJob({ client: backend.backend.client, retry: backend.retry, workspaceId, name });
      runLog.keep(`cancel asked for ${job.name} (${job.displayName})`);
      return { name: job.name, displayName: job.displayName };
    } catch (error) {
      if (error instanceof ChargenError) throw error;
      throw new UsageError({ message: (error as Error).message });
    }
  });
}

/**
 * The page's actions, each the CLI's own function: runPipeline for `run`, cancelWorkspaceJob for `jobs cancel`. A run
 * started here holds the workspace lock like any other, and stops (resumably) when the UI does.
 */
export function createUiActions(options: UiActionsOptions): UiActions {
  const runLog = createRunLog(options.logger);
  let running: { promise: Promise<void>; controller: AbortController } | undefined;
  let last: LastRun | undefined;

  async function startRun({ from }: { from?: StageName }): Promise<void> {
    if (running) throw new WorkspaceLockedError({ message: 'A run started from this page is still going; wait for it to finish.' });
    // Claimed before the first await: two clicks at once must not both start a run.
    const claim = { promise: Promise.resolve(), controller: new AbortController() };
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
    runLog.clear();
    runLog.keep(`chargen run${from ? ` --from ${from}` : ''} (started from the UI)`);
    claim.promise = runToEnd({ ...options, config, from, runLog, signal: claim.controller.signal })
      .then((ended) => void (last = ended))
      .finally(() => {
        if (running === claim) running = undefined;
      });
  }

  return {
    plan: ({ from }) => planRun(options, from),
    startRun,
    cancelJob: (name) => cancelJob(options, name, runLog),
    view: () => ({ ownRun: running !== undefined, log: [...runLog.lines], ...(last ? { last } : {}) }),
    runStates: () => runLog.states,
    async stop() {
      if (!running) return;
      running.controller.abort();
      await running.promise;
    },
  };
}
