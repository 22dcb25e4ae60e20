import type { Writable } from 'node:stream';
import type { Logger, ProgressEvent } from '../logger.ts';

interface StageProgress {
  done: number;
  total: number;
  jobs: Map<string, string>;
}

const barWidth = 24;
const colours = { reset: '\u001b[0m', dim: '\u001b[2m', green: '\u001b[32m', yellow: '\u001b[33m', red: '\u001b[31m' } as const;

function colourOfState(state: string): string {
  if (/SUCCEEDED/.test(state)) return colours.green;
  if (/FAILED|CANCELLED|EXPIRED/.test(state)) return colours.red;
  return colours.yellow;
}

/** Pure: the status line of one stage, e.g. `synthesize [##########--------------] 5/12  jobs: 1 running`. */
export function formatProgressLine(options: { stage: string; progress: StageProgress; colour: boolean }): string {
  const { progress, colour } = options;
  const paint = (code: string, text: string) => (colour ? `${code}${text}${colours.reset}` : text);
  const parts = [options.stage];
  if (progress.total > 0) {
    const filled = Math.min(barWidth, Math.round((progress.done / progress.total) * barWidth));
    parts.push(`[${paint(colours.green, '#'.repeat(filled))}${'-'.repeat(barWidth - filled)}] ${progress.done}/${progress.total}`);
  }
  if (progress.jobs.size > 0) {
    const counts = new Map<string, number>();
    for (const state of progress.jobs.values()) counts.set(state, (counts.get(state) ?? 0) + 1);
    const states = [...counts].map(([state, count]) => paint(colourOfState(state), `${count} ${state.replace(/^(JOB|BATCH)_STATE_/, '').toLowerCase()}`));
    parts.push(`jobs: ${states.join(', ')}`);
  }
  return parts.join('  ');
}

/**
 * For a terminal: messages scroll as plain lines, and one status line at the bottom is redrawn with each stage's bar
 * and job states. Colour only when NO_COLOR is not set (https://no-color.org).
 */
export function createTerminalLogger(options: { stdout: Writable; stderr: Writable; colour: boolean }): Logger {
  const stages = new Map<string, StageProgress>();
  let current: string | undefined;
  let drawn = false;
  const clear = () => {
    if (drawn) options.stderr.write('\r\u001b[2K');
    drawn = false;
  };
  const draw = () => {
    const progress = current ? stages.get(current) : undefined;
    if (!current || !progress) return;
    options.stderr.write(formatProgressLine({ stage: current, progress, colour: options.colour }));
    drawn = true;
  };
  const say = (stream: Writable, text: string) => {
    clear();
    stream.write(`${text}\n`);
    draw();
  };
  const paint = (code: string, text: string) => (options.colour ? `${code}${text}${colours.reset}` : text);
  return {
    print: (line) => say(options.stdout, line),
    info: (line) => say(options.stderr, line),
    warn: (line) => say(options.stderr, `${paint(colours.yellow, 'warning:')} ${line}`),
    error: (line) => say(options.stderr, `${paint(colours.red, 'error:')} ${line}`),
    progress(event: ProgressEvent) {
      const progress = stages.get(event.stage) ?? { done: 0, total: 0, jobs: new Map<string, string>() };
      if (event.total !== undefined) progress.total = event.total;
      if (event.done !== undefined) progress.done = event.done;
      if (event.job) progress.jobs.set(event.job.name, event.job.state);
      stages.set(event.stage, progress);
      current = event.stage;
      clear();
      draw();
    },
  };
}
