import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import type { Logger } from '../../lib/logger.ts';

/** What runCli is given: the command line, where it runs, and (in tests) the logger, the stop signal and the prompt. */
export interface CliOptions {
  argv: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Resolves when the user asks a long-running command to stop (SIGINT/SIGTERM by default). */
  waitForStop?: () => Promise<void>;
  /** Asks yes or no on a terminal; absent when there is none (then spending above the limit needs --yes). */
  confirm?: (question: string) => Promise<boolean>;
}

/** What each group of commands is registered with: the program, the CLI's options, its logger, and where an exit code goes. */
export interface CommandRegistration {
  program: Command;
  cli: CliOptions;
  logger: Logger;
  /** Keeps the exit code the command returned: runCli returns it once the command line is parsed. */
  setExitCode(exitCode: number): void;
}

export const exitCodeHelp = `
Exit codes:
  0  done
  1  error
  2  usage, config or workspace error (the message says what to fix)
  3  done, but some items failed (dead-lettered; listed)
  4  jobs still pending (--detach, or interrupted): run again to pick them up`;

/** Resolves at the first SIGINT or SIGTERM: a long-running command then stops (resumably). */
export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** A yes/no question on the terminal, when there is one to ask on (never in CI or a pipe). */
export function createTerminalConfirm(): ((question: string) => Promise<boolean>) | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return async (question) => {
    const lines = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await lines.question(`${question} [y/N] `);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      lines.close();
    }
  };
}
