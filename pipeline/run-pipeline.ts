import { join, relative, resolve } from 'node:path';
import { readSynthesisStateFrom, readSynthesizeCheckpoint } from '../stages/synthesize/synthesize-checkpoint.ts';
import type { ChargenConfig } from '../schemas/chargen-config.ts';
import { checkRunInputs } from './config/check-run-inputs.ts';
import { ChargenError, CheckpointError, exitCodeFor, InterruptedError, JobsPendingError, UsageError, type ExitCode } from '../lib/errors.ts';
import { describePlan } from './describe-plan.ts';
import { planRun, type RunPlan } from './estimate-run.ts';
import { formatCount, formatUsd } from '../lib/format-count.ts';
import type { ExecutorEnvironment } from '../lib/gemini/batch-executor.ts';
import type { Logger } from '../lib/logger.ts';
import { createPipelineContext, type PipelineContext } from './pipeline-context.ts';
import { analyzeStep } from '../stages/analyze/analyze-step.ts';
import { compileStep } from '../stages/compile/compile-step.ts';
import { emptySummary, stageNames, type DeadLetter, type StageName, type StageStep, type StageSummary } from '../stages/stage-step.ts';
import { synthesizeStep } from '../stages/synthesize/synthesize-step.ts';
import { runFlow } from './flow/run-flow.ts';
import { moveOlderWorkspaceFiles } from './move-older-workspace-files.ts';
import { openWorkspace } from '../lib/store/open-workspace.ts';
import { acquireWorkspaceLock } from '../lib/store/workspace-lock.ts';
import { contactSheetFileName, writeContactSheet } from '../stages/synthesize/write-contact-sheet.ts';
import { checkServedModels, describeModelWarnings } from '../lib/gemini/check-models.ts';
import { pickSamplingParameters } from '../stages/analyze/core/build-analysis-request.ts';
import { listModelUses } from './list-model-uses.ts';
import { formatCommand, type CommandFlags } from './format-command.ts';
import { toApiUnreachableError } from '../lib/gemini/detect-unreachable-api.ts';
import { readAnalysisStateFrom } from '../stages/analyze/analysis-checkpoint.ts';
import { readCheckpointStore } from '../lib/store/checkpoint-store.ts';
import { describeWorkspaceBackends, listWorkspaceBackends } from './list-workspace-backends.ts';

export { describePlan };

const steps: readonly StageStep[] = [analyzeStep, compileStep, synthesizeStep];

export interface RunPipelineOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  config: ChargenConfig;
  from?: StageName;
  only?: StageName;
  detach?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  /** Asks the user a yes/no question; absent when there is no terminal to ask on. */
  confirm?: (question: string) => Promise<boolean>;
  signal?: AbortSignal;
  environment?: Partial<ExecutorEnvironment>;
  /** The command line, for the lock's "held by" message. */
  command?: string;
  /** The user's own flags, repeated in every hint (`chargen run --input pics …`) so that it finds the same folders. */
  commandFlags?: CommandFlags;
}

interface RunReport {
  stages: Record<StageName, StageSummary>;
  outputs: { source: string; image: string; sidecar: string }[];
  deadLetter: DeadLetter[];
  /** Present on a dry run, and when a spend was estimated before a real run. */
  plan?: RunPlan;
  /** One line for people: what happened and what to do next. */
  message: string;
}

/**
 * How a run ended, told by `status` (as each item's outcome is): every item done, done with some dead-lettered, a
 * dry run's plan, a spend declined at the prompt, jobs left running (`--detach`), or interrupted with state saved.
 * A failure that stops the run is thrown, a ChargenError.
 */
type Outcome = RunReport &
  (
    | { status: 'done' | 'dead-lettered' | 'pending' | 'interrupted' }
    | { status: 'planned' | 'declined'; plan: RunPlan }
  );

export type PipelineOutcome = Outcome & {
  /** The backend the run used (or, on a dry run, would use). */
  backend: { identity: string; label: string };
};

/**
 * The outcome, and its exit code for whoever shows it (`--json`, the page). The code is `exitCodeFor(outcome)`, the one
 * mapping in lib/errors.ts: this file decides the outcome, never the number.
 */
export type PipelineSummary = PipelineOutcome & { exitCode: ExitCode };

/** Pure: which stages run, and which of them run even when their checkpoint is current. */
export function selectStages(options: { from?: StageName; only?: StageName }): { run: StageName[]; forced: Set<StageName> } {
  if (options.only) return { run: [options.only], forced: new Set([options.only]) };
  const start = options.from ? stageNames.indexOf(options.from) : stageNames.length;
  return { run: [...stageNames], forced: new Set(stageNames.slice(start)) };
}

/** The selected stages from the first one that will run (forced, or out of date) on: those that will call a model. */
async function findStagesToRun(context: PipelineContext, selection: { run: StageName[]; forced: Set<StageName> }): Promise<StageName[]> {
  for (const [index, name] of selection.run.entries()) {
    if (selection.forced.has(name)) return selection.run.slice(index);
    const step = steps[stageNames.indexOf(name)] as StageStep;
    const freshness = await step.isFresh(context).catch(() => ({ fresh: false }));
    if (!freshness.fresh) return selection.run.slice(index);
  }
  return [];
}

/**
 * Before anything is uploaded or sent: warnings the catalog knows of (deprecated and routed models, sampling
 * parameters), then each model the run will call asked of the API once (a retired one stops the run, exit 2).
 */
async function checkRunModels(context: PipelineContext, selection: { run: StageName[]; forced: Set<StageName> }, options: { ask: boolean }): Promise<void> {
  const uses = listModelUses({ config: context.config, stages: await findStagesToRun(context, selection) });
  const sampling = pickSamplingParameters(context.config.analyze);
  for (const warning of describeModelWarnings({ uses, sampling, samplingSetting: 'analyze', analysisModel: context.config.analyze.model })) context.logger.warn(warning);
  if (!options.ask || uses.length === 0) return;
  const backend = await context.connect();
  await checkServedModels({ client: backend.backend.client, uses, retry: backend.retry });
}

/** The sheet is a convenience: failing to write it is a warning, never a failed run. */
async function tryWriteContactSheet(context: PipelineContext): Promise<void> {
  const path = join(context.outputDirectory, contactSheetFileName);
  try {
    const sheet = await writeContactSheet({ workspaceDirectory: context.workspace.directory, inputDirectory: context.inputDirectory, outputDirectory: context.outputDirectory, now: Date.now });
    if (sheet) context.logger.info(`contact sheet: ${relative(context.cwd, sheet.path)}`);
  } catch (error) {
    context.logger.warn(`could not write the contact sheet ${relative(context.cwd, path)}: ${(error as Error).message}`);
  }
}

async function collectOutputs(context: PipelineContext): Promise<PipelineSummary['outputs']> {
  const checkpoint = await readSynthesizeCheckpoint(context.workspace.directory);
  const show = (path: string) => relative(context.cwd, path) || '.';
  return (checkpoint?.outputs ?? []).map((output) => ({
    // A folder character keeps its trailing `/`: `input_images/knight/`, never taken for a file `knight`.
    source: `${show(join(context.inputDirectory, output.sourcePath))}${output.sourcePath.endsWith('/') ? '/' : ''}`,
    image: show(join(context.outputDirectory, output.image)),
    sidecar: show(join(context.outputDirectory, output.sidecar)),
  }));
}

type Selection = ReturnType<typeof selectStages>;

/** How many of the failures in the checkpoints trying again can mend (a lost upload, an answer lost to line errors). */
async function countRetryableFailures(context: PipelineContext): Promise<number> {
  const counts = readCheckpointStore(context.workspace.directory, (store) => (readAnalysisStateFrom(store)?.retryableFailures ?? 0) + (readSynthesisStateFrom(store)?.retryableFailures ?? 0));
  return counts ?? 0;
}

/** Pure: the failures' line; "run again" only when running again can mend some of them. */
export function describeFailures(options: { failed: number; retryable: number; rerun: string }): string {
  const line = `${formatCount(options.failed, 'item')} failed (listed above)`;
  if (options.retryable === 0) return line;
  const which = options.retryable >= options.failed ? (options.failed === 1 ? 'it' : 'them') : `${options.retryable} of them`;
  return `${line}; trying again can mend ${which}: run \`${options.rerun}\``;
}

/** A dry run's plan, or the spend confirmed (on a real backend, above confirmAboveUsd): an outcome stops the run. */
async function planBeforeSpending(context: PipelineContext, selection: Selection, options: RunPipelineOptions, stages: Record<StageName, StageSummary>): Promise<Outcome | undefined> {
  const { config } = context;
  if (!options.dryRun && (context.backend.builtIn || options.yes)) return undefined;
  const plan = await planRun(context, { forced: selection.forced });
  if (options.dryRun) {
    for (const name of stageNames) stages[name] = { ...emptySummary('planned'), total: name === 'compile' ? plan.compile.items : plan[name].items, cached: name === 'compile' ? 0 : plan[name].cached };
    const backends = describeWorkspaceBackends({ backends: await listWorkspaceBackends(context.workspace.directory), resolution: context.backend });
    const [backendLine = '', ...inventory] = backends;
    const message = [backendLine, ...describePlan(plan), ...inventory, 'Dry run: nothing was sent, spent or written.'].join('\n');
    return { status: 'planned', stages, outputs: [], deadLetter: [], plan, message };
  }
  if (plan.costUsd <= config.confirmAboveUsd) return undefined;
  const question = `${describePlan(plan).join('\n')}\nThis run may spend about ${formatUsd(plan.costUsd)} (above confirmAboveUsd ${formatUsd(config.confirmAboveUsd)}). Go on?`;
  if (!options.confirm) {
    throw new ChargenError({ code: 'confirmation-needed', message: `${question.replace(/ Go on\?$/, '')} Run again with --yes to go ahead (or raise confirmAboveUsd).` });
  }
  if (await options.confirm(question)) return undefined;
  return { status: 'declined', stages, outputs: [], deadLetter: [], plan, message: 'Stopped before spending anything.' };
}

/** A stage left pending or interrupted ends the run resumably, as an outcome; any other error is thrown on. */
async function describeStop(context: PipelineContext, options: { error: unknown; name: StageName; stages: Record<StageName, StageSummary>; deadLetter: DeadLetter[]; flags: CommandFlags }): Promise<Outcome> {
  const { error, name, stages, deadLetter, flags } = options;
  const rerun = formatCommand('run', flags);
  const report = context.reports.get(name);
  const partial = { ...emptySummary('pending'), cached: report?.cachedKeys ?? 0, requestsSent: report?.sentLines ?? 0 };
  if (error instanceof JobsPendingError) {
    stages[name] = partial;
    return {
      status: 'pending',
      stages,
      outputs: await collectOutputs(context),
      deadLetter,
      message: `${error.message}. They run on without this process: \`${formatCommand('status', flags)}\` shows them, \`${rerun}\` picks them up.`,
    };
  }
  if (error instanceof InterruptedError || context.signal.aborted) {
    stages[name] = { ...partial, status: 'interrupted' };
    return {
      status: 'interrupted',
      stages,
      outputs: await collectOutputs(context),
      deadLetter,
      message: `Interrupted during ${name}; everything finished so far is saved${context.backend.builtIn ? ` (the built-in emulator's jobs ended with it; their requests go again, free)` : ' and submitted batch jobs keep running'}. Run \`${rerun}\` again to resume.`,
    };
  }
  throw error;
}

/**
 * Whether the run flows chunk by chunk: all three stages, unless every checkpoint is current (then each is skipped).
 * A run after a template or settings change flows too, though its analyses are all answered already: stage after
 * stage would upload every character's references at once, past the storage budget, and hold every prompt.
 */
async function shouldFlow(context: PipelineContext, selection: Selection): Promise<boolean> {
  if (selection.run.length !== stageNames.length) return false;
  // Turnaround sheets are made between compile and the shots by the flow alone.
  if (selection.forced.size > 0 || context.config.synthesize.sheet) return true;
  // A damaged analysis checkpoint is analysed again (from the answers kept); a damaged later one stops the run, named.
  if (!(await analyzeStep.isFresh(context).catch(() => ({ fresh: false }))).fresh) return true;
  return !(await compileStep.isFresh(context)).fresh || !(await synthesizeStep.isFresh(context)).fresh;
}

/** Runs the selected stages: chunk by chunk through all three (pipeline/flow/), or stage after stage. */
async function runSelectedStages(context: PipelineContext, selection: Selection, stages: Record<StageName, StageSummary>, flags: CommandFlags): Promise<Outcome> {
  const rerun = formatCommand('run', flags);
  const deadLetter: DeadLetter[] = [];
  if (await shouldFlow(context, selection)) {
    const flowed = await runFlow(context, { forced: selection.forced });
    if (flowed.status === 'stopped') {
      const error = flowed.error instanceof JobsPendingError ? new JobsPendingError({ stage: flowed.stage, pendingJobs: flowed.pendingJobs }) : flowed.error;
      return describeStop(context, { error, name: flowed.stage, stages, deadLetter, flags });
    }
    Object.assign(stages, flowed.stages);
    deadLetter.push(...flowed.deadLetter);
  } else {
    for (const name of selection.run) {
      const step = steps[stageNames.indexOf(name)] as StageStep;
      try {
        const result = await step.run(context, { force: selection.forced.has(name) });
        stages[name] = result.summary;
        deadLetter.push(...result.deadLetter);
      } catch (error) {
        return describeStop(context, { error, name, stages, deadLetter, flags });
      }
    }
  }
  // Every job of the run is done: no pending job references its uploads, so they leave the Files API's storage.
  await context.releaseHeldUploads().catch((error: unknown) => context.logger.warn(`could not delete this run's uploads (they expire on their own 48 h after upload): ${(error as Error).message}`));
  const outputs = await collectOutputs(context);
  // Only when synthesize was part of the run (its checkpoint is then for this output folder), and made something.
  if (stages.synthesize.status !== 'not-run' && outputs.length > 0) await tryWriteContactSheet(context);
  const made = stages.synthesize.status === 'not-run' ? '' : `${formatCount(outputs.length, 'image')} in ${relative(context.cwd, context.outputDirectory) || '.'}`;
  const failed = deadLetter.length > 0 ? describeFailures({ failed: deadLetter.length, retryable: await countRetryableFailures(context), rerun }) : '';
  return { status: deadLetter.length > 0 ? 'dead-lettered' : 'done', stages, outputs, deadLetter, message: [made, failed].filter(Boolean).join('; ') || 'done' };
}

/** Everything after the workspace is open: the backend named, models checked, the spend confirmed, the stages run. */
async function runInContext(context: PipelineContext, options: RunPipelineOptions): Promise<Outcome> {
  const stages = Object.fromEntries(stageNames.map((name) => [name, emptySummary('not-run')])) as Record<StageName, StageSummary>;
  const selection = selectStages(options);
  if (!options.dryRun) context.logger.info(`backend: ${context.backend.label} (${context.backend.reason})`);

  const { only: _only, ...withoutOnly } = options.commandFlags ?? {};
  // Turnaround sheets are made between compile and the shots, by a run of every stage; compile or synthesize on its
  // own would give shots without them (paid, then asked again).
  if (options.only && options.only !== 'analyze' && context.config.synthesize.sheet) {
    throw new UsageError({ message: `synthesize.sheet is on: --only ${options.only} cannot make the turnaround sheets its shots carry. Run \`${formatCommand('run', withoutOnly)}\` (answers already paid for are reused).` });
  }
  if (options.only && options.only !== 'analyze') {
    const upstream = steps[stageNames.indexOf(options.only) - 1] as StageStep;
    const freshness = await upstream.isFresh(context);
    if (!freshness.fresh) {
      throw new CheckpointError({
        message: `--only ${options.only} runs from the ${upstream.name} checkpoint, but ${freshness.reason}. Run \`${formatCommand('run', withoutOnly, ['--from', upstream.name])}\` instead (answers already paid for are reused).`,
      });
    }
  }

  await checkRunModels(context, selection, { ask: options.dryRun !== true });
  return (await planBeforeSpending(context, selection, options, stages)) ?? (await runSelectedStages(context, selection, stages, options.commandFlags ?? {}));
}

/**
 * `chargen run`: brings the outputs up to date, stage by stage. A stage whose checkpoint is current is skipped; one
 * that runs reuses every answer paid for before. Returns the outcome, never exits: the CLI prints it.
 */
export async function runPipeline(options: RunPipelineOptions): Promise<PipelineSummary> {
  const { config, logger } = options;
  const workspaceDirectory = resolve(options.cwd, config.workdir);
  await checkRunInputs({ cwd: options.cwd, config });
  const lock = options.dryRun ? undefined : await acquireWorkspaceLock({ directory: workspaceDirectory, command: options.command ?? 'run', now: Date.now });
  const signal = options.signal ?? new AbortController().signal;
  let context: PipelineContext | undefined;
  try {
    const workspace = await openWorkspace({ directory: workspaceDirectory, now: Date.now, readOnly: options.dryRun === true });
    if (!options.dryRun) await moveOlderWorkspaceFiles({ workspaceDirectory, logger });
    context = await createPipelineContext({ cwd: options.cwd, env: options.env, config, logger, workspace, signal, detach: options.detach === true, forRun: true, ...(options.environment ? { environment: options.environment } : {}) });
    const outcome = await runInContext(context, options).catch((error: unknown) => {
      throw signal.aborted ? error : toApiUnreachableError(error, { connection: context?.backend.connection, rerun: formatCommand('run', options.commandFlags) });
    });
    return { ...outcome, backend: { identity: context.backend.identity, label: context.backend.label }, exitCode: exitCodeFor(outcome) };
  } finally {
    await context?.close();
    await lock?.release();
  }
}
