import type { Writable } from 'node:stream';

/**
 * Where library code says things: results a script reads go to `print` (stdout), progress and problems to
 * `info`/`warn`/`error` (stderr). Passed in, never the console directly, so tests capture it.
 */
export interface Logger {
  print(line: string): void;
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
  /** Where a stage stands (items done, a job's state); drawn as bars on a terminal, ignored elsewhere. */
  progress?(event: ProgressEvent): void;
}

/**
 * Where a stage stands. A stage says its `total` (and what is `done` already) when it starts and `done` when it ends;
 * between, the Gemini layer adds items as they finish, which it can count but the stage cannot see.
 */
export interface ProgressEvent {
  stage: string;
  /** Items finished so far, of `total`: sets the count. */
  done?: number;
  total?: number;
  /** More items finished by answers this run received (added to `done`): how fast these came says when the rest will. */
  answered?: number;
  /** More items finished without waiting for an answer (added to `done`): answered by an earlier run, or refused. */
  withoutRequest?: number;
  /** A batch job and its state (PENDING, RUNNING, SUCCEEDED, …). */
  job?: { name: string; state: string };
  /**
   * The stage's closing line ("analyze: 6 distinct images, …"): printed where there is no status line (a pipe, a log
   * file), left out on a terminal, where the run's own summary follows it: one summary, not two.
   */
  summary?: string;
}

/** Says a stage's closing line as a progress event, or as an info line to a logger that takes no progress. */
export function reportStageSummary(logger: Logger, options: { stage: string; summary: string }): void {
  if (logger.progress) logger.progress({ stage: options.stage, summary: options.summary });
  else logger.info(options.summary);
}

export function createStreamLogger(streams: { stdout: Writable; stderr: Writable }): Logger {
  return {
    print: (line) => streams.stdout.write(`${line}\n`),
    info: (line) => streams.stderr.write(`${line}\n`),
    warn: (line) => streams.stderr.write(`warning: ${line}\n`),
    error: (line) => streams.stderr.write(`error: ${line}\n`),
    progress: (event) => {
      if (event.summary !== undefined) streams.stderr.write(`${event.summary}\n`);
    },
  };
}

/** A logger that keeps every line, for tests. */
export function createMemoryLogger(): Logger & { lines: { stream: 'stdout' | 'stderr'; text: string }[] } {
  const lines: { stream: 'stdout' | 'stderr'; text: string }[] = [];
  return {
    lines,
    print: (text) => lines.push({ stream: 'stdout', text }),
    info: (text) => lines.push({ stream: 'stderr', text }),
    warn: (text) => lines.push({ stream: 'stderr', text: `warning: ${text}` }),
    error: (text) => lines.push({ stream: 'stderr', text: `error: ${text}` }),
    progress: (event) => {
      if (event.summary !== undefined) lines.push({ stream: 'stderr', text: event.summary });
    },
  };
}
