import { z } from 'zod';
import { ChargenError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { runAnalyze } from '../run-analyze.ts';

const flagsSchema = z.object({
  input: z.string().min(1),
  workdir: z.string().min(1),
  only: z.enum(['analyze', 'compile', 'synthesize']).optional(),
  backend: z.enum(['auto', 'gemini', 'emulator']),
  mode: z.enum(['batch', 'sync']),
  json: z.boolean().optional(),
});

/** `chargen run`: brings the stages' outputs up to date. In this version: `--only analyze`. */
export async function runRunCommand(options: { cwd: string; env: NodeJS.ProcessEnv; logger: Logger; flags: Record<string, unknown> }): Promise<number> {
  const { logger } = options;
  const flags = flagsSchema.safeParse(options.flags);
  if (!flags.success) {
    for (const issue of flags.error.issues) logger.error(`--${issue.path.join('.')}: ${issue.message}`);
    return 2;
  }
  if (flags.data.only !== 'analyze') {
    logger.error('This version runs the analyze stage only: use `chargen run --only analyze`. Compile and synthesize are being built.');
    return 2;
  }
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
