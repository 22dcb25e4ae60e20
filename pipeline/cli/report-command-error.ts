import { ChargenError, exitCodeFor, kindOf, type ExitCode } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';

/**
 * A command's failure: a ChargenError is its message on stderr (with its stack when it is chargen's own mistake, for
 * the bug report) and the exit code `exitCodeFor` gives its code; anything else goes on up with its stack, as before.
 */
export function reportCommandError(logger: Logger, error: unknown): ExitCode {
  if (!(error instanceof ChargenError)) throw error;
  logger.error(kindOf(error.code) === 'internal' ? (error.stack ?? error.message) : error.message);
  return exitCodeFor(error);
}
