import type { z } from 'zod';
import type { Logger } from '../../lib/logger.ts';

/** Each problem with the flags on its own line, named by its flag (`--port: …`); one about several flags unnamed. */
export function reportFlagProblems(logger: Logger, error: z.ZodError): void {
  for (const issue of error.issues) logger.error(`${issue.path.length > 0 ? `--${issue.path.join('.')}: ` : ''}${issue.message}`);
}
