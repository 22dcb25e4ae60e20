import type { Writable } from 'node:stream';
import { onExit as onProcessExit } from 'signal-exit';
import type { Logger, ProgressEvent } from '../../lib/logger.ts';
import { formatProgressLine, type StageProgressView } from './format-progress-line.ts';

/** Time for the status line: what time it is, and a tick to redraw by (the elapsed time moves while a job waits). */
export interface TerminalClock {
  now(): number;
  /** Calls `tick` every `milliseconds` until the returned function is called; never keeps the process alive. */
  every(milliseconds: number, tick: () => void): () => void;
}

interface StageProgress {
  done: number;
  total: number;
  /** Items finished by answers this run received: the rate the estimate is made from. */
  answered: number;
  jobs: Map<string, string>;
  startedAt: number;
  finishedAt?: number;
}

const clearLine = '\r\u001b[2K';
const tickMilliseconds = 1_000;
/** Answers can arrive by thousands a second (a result file read line by line): the line is redrawn at most this often. */
const answerRedrawMilliseconds = 100;
const colours = { reset: '\u001b[0m', yellow: '\u001b[33m', red: '\u001b[31m' } as const;

const systemClock: TerminalClock = {
  now: () => Date.now(),
  every(milliseconds, tick) {
    const timer = setInterval(tick, milliseconds);
    timer.unref();
    return () => clearInterval(timer);
  },
};

function applyProgressEvent(progress: StageProgress, event: ProgressEvent, now: number): void {
  if (event.total !== undefined) progress.total = event.total;
  if (event.done !== undefined) progress.done = event.done;
  progress.done += (event.answered ?? 0) + (event.withoutRequest ?? 0);
  progress.answered += event.answered ?? 0;
  if (event.job) progress.jobs.set(event.job.name, event.job.state);
  const jobsWaiting = [...progress.jobs.values()].some((state) => !/SUCCEEDED|FAILED|CANCELLED|EXPIRED/.test(state));
  const finished = progress.total > 0 && progress.done >= progress.total && !jobsWaiting;
  if (!finished) delete progress.finishedAt;
  else progress.finishedAt ??= now;
}

/** What the line shows: the time since the stage's first event, and the rest at the rate this run's answers came. */
function viewStage(stage: string, progress: StageProgress, now: number): StageProgressView {
  const elapsedMilliseconds = (progress.finishedAt ?? now) - progress.startedAt;
  const left = progress.total - progress.done;
  const estimable = progress.finishedAt === undefined && progress.answered > 0 && left > 0;
  return {
    stage,
    done: progress.done,
    total: progress.total,
    jobs: progress.jobs,
    elapsedMilliseconds,
    ...(estimable ? { remainingMilliseconds: (elapsedMilliseconds * left) / progress.answered } : {}),
  };
}

function isOnlyAnswers(event: ProgressEvent): boolean {
  return event.answered !== undefined && event.total === undefined && event.done === undefined && event.withoutRequest === undefined && !event.job;
}

/**
 * For a terminal: messages scroll as plain lines, and one status line at the bottom is redrawn with the current
 * stage's bar of items, its jobs by state, the time taken and an estimate of the rest, cut to the terminal's width.
 * The line is taken away when the process ends, however it ends (a second Ctrl-C included), so the screen ends with
 * the command's own summary. Colour only when NO_COLOR is not set (https://no-color.org).
 */
export function createTerminalLogger(options: {
  stdout: Writable;
  /** A terminal's width is `columns`; a pseudo-terminal nobody sized says 0, read as 80. */
  stderr: Writable & { columns?: number };
  colour: boolean;
  clock?: TerminalClock;
  /** Runs `callback` when the process ends; signal-exit's by default, which also covers fatal signals. */
  onExit?: (callback: () => void) => () => void;
}): Logger {
  const clock = options.clock ?? systemClock;
  const stages = new Map<string, StageProgress>();
  const screen: { current?: string; shown?: string; drawnAt: number; stopTicking?: () => void; closed: boolean } = { drawnAt: -Infinity, closed: false };

  const clear = () => {
    if (screen.shown !== undefined) options.stderr.write(clearLine);
    delete screen.shown;
  };
  const draw = () => {
    const progress = screen.current === undefined ? undefined : stages.get(screen.current);
    if (screen.closed || screen.current === undefined || !progress) return;
    const now = clock.now();
    screen.drawnAt = now;
    const line = formatProgressLine({ view: viewStage(screen.current, progress, now), colour: options.colour, columns: options.stderr.columns || 80 });
    if (line === screen.shown) return;
    options.stderr.write(`${clearLine}${line}`);
    screen.shown = line;
  };
  const say = (stream: Writable, text: string) => {
    clear();
    stream.write(`${text}\n`);
    draw();
  };
  (options.onExit ?? ((callback) => onProcessExit(() => callback())))(() => {
    clear();
    screen.closed = true;
    screen.stopTicking?.();
  });

  const paint = (code: string, text: string) => (options.colour ? `${code}${text}${colours.reset}` : text);
  return {
    print: (line) => say(options.stdout, line),
    info: (line) => say(options.stderr, line),
    warn: (line) => say(options.stderr, `${paint(colours.yellow, 'warning:')} ${line}`),
    error: (line) => say(options.stderr, `${paint(colours.red, 'error:')} ${line}`),
    progress(event: ProgressEvent) {
      // A stage's closing line: the status line and the run's summary already say it here.
      if (screen.closed || event.summary !== undefined) return;
      const now = clock.now();
      const progress = stages.get(event.stage) ?? { done: 0, total: 0, answered: 0, jobs: new Map<string, string>(), startedAt: now };
      applyProgressEvent(progress, event, now);
      stages.set(event.stage, progress);
      screen.current = event.stage;
      screen.stopTicking ??= clock.every(tickMilliseconds, draw);
      if (isOnlyAnswers(event) && now - screen.drawnAt < answerRedrawMilliseconds) return;
      draw();
    },
  };
}
