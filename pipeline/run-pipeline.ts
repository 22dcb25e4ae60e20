import { join, relative, resolve } from 'node:path';
import { readSynthesizeCheckpoint } from '../stages/synthesize/synthesize-checkpoint.ts';
import type { ChargenConfig } from './config/chargen-config.ts';
import { checkRunInputs } from './config/check-run-inputs.ts';
import { ChargenError, CheckpointError, InterruptedError } from './errors.ts';
import { planRun, type RunPlan } from './estimate-run.ts';
import type { ExecutorEnvironment } from './gemini/batch-executor.ts';
import type { Logger } from './logger.ts';
import { createPipelineContext, JobsPendingError, type PipelineContext } from './pipeline-context.ts';
import { analyzeStep } from './steps/analyze-step.ts';
import { compileStep } from './steps/compile-step.ts';
import { emptySummary, stageNames, type DeadLetter, type StageName, type StageStep, type StageSummary } from './steps/stage-step.ts';
import { synthesizeStep } from './steps/synthesize-step.ts';
import { openWorkspace } from './workspace/open-workspace.ts';
import { acquireWorkspaceLock } from './workspace/workspace-lock.ts';
import { contactSheetFileName, writeContactSheet } from './ui/write-contact-sheet.ts';
import { exitCodes } from './cli/exit-codes.ts';
import { checkServedModels, describeModelWarnings } from './gemini/check-models.ts';
import { pickSamplingParameters } from '../stages/analyze/build-analysis-request.ts';
import { listModelUses } from './steps/list-model-uses.ts';

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
}

export interface PipelineSummary {
  exitCode: number;
  stages: Record<StageName, StageSummary>;
  outputs: { source: string; image: string; sidecar: string }[];
  deadLetter: DeadLetter[];
  /** Present on a dry run, and when a spend was estimated before a real run. */
  plan?: RunPlan;
  /** One line for people: what happened and what to do next. */
  message: string;
}

/** Pure: which stages run, and which of them run even when their checkpoint is current. */
export function selectStages(options: { from?: StageName; only?: StageName }): { run: StageName[]; forced: Set<StageName> } {
  if (options.only) return { run: [options.only], forced: new Set([options.only]) };
  const start = options.from ? stageNames.indexOf(options.from) : stageNames.length;
  return { run: [...stageNames], forced: new Set(stageNames.slice(start)) };
}

function formatUsd(amount: number): string {
  return `$${amount.toFixed(amount < 1 ? 3 : 2)}`;
}

export function describePlan(plan: RunPlan): string[] {
  const line = (name: string, stage: RunPlan['analyze']) =>
    `${name}: ${stage.items} items${stage.estimated ? ' (estimated from the images still to analyse)' : ''}, ${stage.cached} done or cached, ${stage.toSend} to send in ${stage.jobs} batch job${stage.jobs === 1 ? '' : 's'}, about ${formatUsd(stage.costUsd)}`;
  return [
    line('analyze', plan.analyze),
    `compile: ${plan.compile.items} prompts${plan.compile.estimated ? ' (estimated)' : ''}, free`,
    line('synthesize', plan.synthesize),
    `estimated spend: ${formatUsd(plan.costUsd)} at batch prices (the price table is in chargen.config.json "prices")`,
    ...plan.unpricedModels.map((name) => `no price for ${name}: its cost is not in the estimate (add it to "prices" in chargen.config.json)`),
  ];
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
    source: show(join(context.inputDirectory, output.sourcePath)),
    image: show(join(context.outputDirectory, output.image)),
    sidecar: show(join(context.outputDirectory, output.sidecar)),
  }));
}

/**
 * `chargen run`: brings the outputs up to date, stage by stage. A stage whose checkpoint is current is skipped; one
 * that runs reuses every answer paid for before. Returns the summary, never exits: the CLI prints it.
 */
export async function runPipeline(options: RunPipelineOptions): Promise<PipelineSummary> {
  const { config, logger } = options;
  const workspaceDirectory = resolve(options.cwd, config.workdir);
  const stages = Object.fromEntries(stageNames.map((name) => [name, emptySummary('not-run')])) as Record<StageName, StageSummary>;
  const selection = selectStages(options);
  await checkRunInputs({ cwd: options.cwd, config });
  const lock = options.dryRun ? undefined : await acquireWorkspaceLock({ directory: workspaceDirectory, command: options.command ?? 'run', now: Date.now });
  const signal = options.signal ?? new AbortController().signal;
  let context: PipelineContext | undefined;
  try {
    const workspace = await openWorkspace({ directory: workspaceDirectory, now: Date.now, readOnly: options.dryRun === true });
    context = await createPipelineContext({ cwd: options.cwd, env: options.env, config, logger, workspace, signal, detach: options.detach === true, ...(options.environment ? { environment: options.environment } : {}) });

    if (options.only && options.only !== 'analyze') {
      const upstream = steps[stageNames.indexOf(options.only) - 1] as StageStep;
      const freshness = await upstream.isFresh(context);
      if (!freshness.fresh) {
        throw new CheckpointError({
          message: `--only ${options.only} runs from the ${upstream.name} checkpoint, but ${freshness.reason}. Run \`chargen run --from ${upstream.name}\` instead (answers already paid for are reused).`,
        });
      }
    }

    await checkRunModels(context, selection, { ask: options.dryRun !== true });

    if (options.dryRun || (context.backendIdentity !== 'emulator' && !options.yes)) {
      const plan = await planRun(context, { forced: selection.forced });
      if (options.dryRun) {
        for (const name of stageNames) stages[name] = { ...emptySummary('planned'), total: name === 'compile' ? plan.compile.items : plan[name].items, cached: name === 'compile' ? 0 : plan[name].cached };
        return { exitCode: exitCodes.done, stages, outputs: [], deadLetter: [], plan, message: [...describePlan(plan), 'Dry run: nothing was sent, spent or written.'].join('\n') };
      }
      if (plan.costUsd > config.confirmAboveUsd) {
        const question = `${describePlan(plan).join('\n')}\nThis run may spend about ${formatUsd(plan.costUsd)} (above confirmAboveUsd ${formatUsd(config.confirmAboveUsd)}). Go on?`;
        if (!options.confirm) {
          throw new ChargenError({ code: 'confirmation-needed', message: `${question.replace(/ Go on\?$/, '')} Run again with --yes to go ahead (or raise confirmAboveUsd).` });
        }
        if (!(await options.confirm(question))) {
          return { exitCode: exitCodes.error, stages, outputs: [], deadLetter: [], plan, message: 'Stopped before spending anything.' };
        }
      }
    }

    const deadLetter: DeadLetter[] = [];
    for (const name of selection.run) {
      const step = steps[stageNames.indexOf(name)] as StageStep;
      try {
        const result = await step.run(context, { force: selection.forced.has(name) });
        stages[name] = result.summary;
        deadLetter.push(...result.deadLetter);
      } catch (error) {
        const report = context.reports.get(name);
        const partial = { ...emptySummary('pending'), cached: report?.cachedKeys ?? 0, requestsSent: report?.sentLines ?? 0 };
        if (error instanceof JobsPendingError) {
          stages[name] = partial;
          return {
            exitCode: exitCodes.pending,
            stages,
            outputs: await collectOutputs(context),
            deadLetter,
            message: `${error.message}. They run on without this process: \`chargen status\` shows them, \`chargen run\` picks them up.`,
          };
        }
        if (error instanceof InterruptedError || signal.aborted) {
          stages[name] = { ...partial, status: 'interrupted' };
          return {
            exitCode: exitCodes.pending,
            stages,
            outputs: await collectOutputs(context),
            deadLetter,
            message: `Interrupted during ${name}; everything finished so far is saved and submitted batch jobs keep running. Run \`chargen run\` again to resume.`,
          };
        }
        throw error;
      }
    }
    // Only when synthesize was part of the run: its checkpoint is then for this output folder.
    if (stages.synthesize.status !== 'not-run') await tryWriteContactSheet(context);
    const outputs = await collectOutputs(context);
    const exitCode = deadLetter.length > 0 ? exitCodes.deadLettered : exitCodes.done;
    const made = stages.synthesize.status === 'not-run' ? '' : `${outputs.length} images in ${relative(options.cwd, context.outputDirectory) || '.'}`;
    return {
      exitCode,
      stages,
      outputs,
      deadLetter,
      message: [made, deadLetter.length > 0 ? `${deadLetter.length} items failed (listed above); run again to retry the retryable ones` : ''].filter(Boolean).join('; ') || 'done',
    };
  } finally {
    await context?.close();
    await lock?.release();
  }
}
