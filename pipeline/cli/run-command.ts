import { z } from 'zod';
import { readConfigFile, resolveConfig } from '../config/load-config.ts';
import { ChargenError, exitCodeFor, exitCodes, type ExitCode } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { formatCount } from '../../lib/format-count.ts';
import type { CommandFlags } from '../format-command.ts';
import { runPipeline, type PipelineSummary } from '../run-pipeline.ts';
import { stageNames } from '../../stages/stage-step.ts';
import { reportCommandError } from './report-command-error.ts';
import { reportFlagProblems } from './report-flag-problems.ts';

const flagsSchema = z
  .object({
    input: z.string().min(1).optional(),
    out: z.string().min(1).optional(),
    workdir: z.string().min(1).optional(),
    config: z.string().min(1).optional(),
    from: z.enum(stageNames).optional(),
    only: z.enum(stageNames).optional(),
    backend: z.string().optional(),
    mode: z.string().optional(),
    pollInterval: z.string().optional(),
    detach: z.boolean().optional(),
    dryRun: z.boolean().optional(),
    yes: z.boolean().optional(),
    json: z.boolean().optional(),
  })
  .refine((flags) => !(flags.from && flags.only), { message: '--from and --only do not go together: --from X runs X and what follows, --only X runs X alone' });

/** What `chargen run --json` prints on stdout: the summary, or (`error` set, no stages) why nothing ran. */
export type RunJsonSummary = Pick<PipelineSummary, 'stages' | 'outputs' | 'deadLetter' | 'plan'> & {
  exitCode: ExitCode;
  backend?: PipelineSummary['backend'];
  error?: { code: ChargenError['code']; message: string };
};

/** Pure: the flags a hint repeats, as the user wrote them. */
export function pickCommandFlags(flags: Record<string, unknown>): CommandFlags {
  const picked: CommandFlags = {};
  for (const name of ['input', 'out', 'workdir', 'config', 'backend', 'mode', 'only'] as const) {
    const value = flags[name];
    if (typeof value === 'string') picked[name] = value;
  }
  return picked;
}

function printHuman(logger: Logger, summary: PipelineSummary): void {
  for (const name of stageNames) {
    const stage = summary.stages[name];
    if (stage.status === 'not-run') continue;
    logger.print(
      `${name}: ${stage.status}, ${stage.succeeded} of ${stage.total} ok` +
        (stage.failed > 0 ? `, ${stage.failed} failed` : '') +
        `, ${stage.cached} cached or unchanged, ${formatCount(stage.requestsSent, 'request')} sent`,
    );
  }
  for (const letter of summary.deadLetter) logger.print(`  failed (${letter.stage}) ${letter.source}: ${letter.reason}`);
  logger.print(summary.message);
}

/** `chargen run`: config from flags > env > file > defaults, then the pipeline; prints the summary, returns the exit code. */
export async function runRunCommand(options: {
  cwd: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  flags: Record<string, unknown>;
  signal: AbortSignal;
  confirm?: (question: string) => Promise<boolean>;
  command: string;
}): Promise<number> {
  const { logger } = options;
  const flags = flagsSchema.safeParse(options.flags);
  if (!flags.success) {
    reportFlagProblems(logger, flags.error);
    return exitCodes.usage;
  }
  const { json, dryRun, yes, detach, from, only } = flags.data;
  try {
    const file = await readConfigFile({ cwd: options.cwd, ...(flags.data.config ? { path: flags.data.config } : {}) });
    const config = resolveConfig({ ...(file ? { file } : {}), env: options.env, flags: flags.data });
    const summary = await runPipeline({
      cwd: options.cwd,
      env: options.env,
      logger,
      config,
      ...(from ? { from } : {}),
      ...(only ? { only } : {}),
      detach: detach === true,
      dryRun: dryRun === true,
      yes: yes === true,
      signal: options.signal,
      ...(options.confirm ? { confirm: options.confirm } : {}),
      command: options.command,
      commandFlags: pickCommandFlags(flags.data),
    });
    const exitCode = exitCodeFor(summary);
    if (json) {
      const printed: RunJsonSummary = { exitCode, backend: summary.backend, stages: summary.stages, outputs: summary.outputs, deadLetter: summary.deadLetter, ...(summary.plan ? { plan: summary.plan } : {}) };
      logger.print(JSON.stringify(printed));
      logger.info(summary.message);
    } else if (dryRun && summary.plan) {
      logger.print(summary.message);
    } else {
      printHuman(logger, summary);
    }
    return exitCode;
  } catch (error) {
    const exitCode = reportCommandError(logger, error);
    if (json && error instanceof ChargenError) logger.print(JSON.stringify({ exitCode, error: { code: error.code, message: error.message } }));
    return exitCode;
  }
}
