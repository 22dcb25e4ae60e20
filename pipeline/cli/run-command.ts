import { z } from 'zod';
import { ChargenError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { runAnalyze } from '../run-analyze.ts';
import { runCompile } from '../run-compile.ts';

const flagsSchema = z.object({
  input: z.string().min(1),
  workdir: z.string().min(1),
  only: z.enum(['analyze', 'compile', 'synthesize']).optional(),
  backend: z.enum(['auto', 'gemini', 'emulator']),
  mode: z.enum(['batch', 'sync']),
  json: z.boolean().optional(),
  dryRun: z.boolean().optional(),
});

async function runCompileStage(options: { cwd: string; logger: Logger; json: boolean; dryRun: boolean; workdir: string }): Promise<number> {
  try {
    const { prompts, ...summary } = await runCompile({ cwd: options.cwd, workdir: options.workdir, logger: options.logger, dryRun: options.dryRun });
    if (options.json) {
      options.logger.print(JSON.stringify({ exitCode: 0, stages: { compile: summary }, ...(options.dryRun ? { prompts } : {}) }));
    } else if (options.dryRun) {
      for (const prompt of prompts) {
        options.logger.print(`--- ${prompt.sourceImage.path} (variant ${prompt.variant}, ${prompt.model}, ${prompt.imageConfig.aspectRatio} ${prompt.imageConfig.imageSize}) ---`);
        options.logger.print(prompt.prompt);
        options.logger.print('');
      }
      options.logger.info(`compile: ${prompts.length} prompts shown; nothing written, nothing spent`);
    } else {
      options.logger.print(`compile: ${summary.items} prompts ${summary.status === 'skipped' ? 'unchanged, not rewritten' : 'written'}: ${summary.checkpoint}`);
    }
    return 0;
  } catch (error) {
    if (error instanceof ChargenError) {
      options.logger.error(error.message);
      return 2;
    }
    throw error;
  }
}

/** `chargen run`: brings the stages' outputs up to date. In this version: `--only analyze`. */
export async function runRunCommand(options: { cwd: string; env: NodeJS.ProcessEnv; logger: Logger; flags: Record<string, unknown> }): Promise<number> {
  const { logger } = options;
  const flags = flagsSchema.safeParse(options.flags);
  if (!flags.success) {
    for (const issue of flags.error.issues) logger.error(`--${issue.path.join('.')}: ${issue.message}`);
    return 2;
  }
  if (flags.data.only !== 'analyze' && flags.data.only !== 'compile') {
    logger.error('This version runs one stage at a time: `chargen run --only analyze`, then `chargen run --only compile`. Synthesize is being built.');
    return 2;
  }
  if (flags.data.only === 'compile') return runCompileStage({ ...options, json: flags.data.json === true, dryRun: flags.data.dryRun === true, workdir: flags.data.workdir });
  try {
    const summary = await runAnalyze({ cwd: options.cwd, env: options.env, logger, input: flags.data.input, workdir: flags.data.workdir, backend: flags.data.backend, mode: flags.data.mode });
    const exitCode = summary.failed > 0 ? 3 : 0;
    if (flags.data.json) {
      logger.print(JSON.stringify({ exitCode, stages: { analyze: summary } }));
    } else {
      logger.print(
        `analyze: ${summary.succeeded} of ${summary.items} images analysed (${summary.cached} from earlier runs, ${summary.sent} requests sent, ${summary.jobsCreated} batch jobs)` +
          (summary.failed > 0 ? `; ${summary.failed} failed, listed above and in ${summary.checkpoint}` : ''),
      );
    }
    return exitCode;
  } catch (error) {
    if (error instanceof ChargenError) {
      logger.error(error.message);
      return error.code === 'missing-api-key' || error.code === 'workspace-file-invalid' ? 2 : 1;
    }
    throw error;
  }
}
