import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createTerminalLogger } from '../../pipeline/cli/create-terminal-logger.ts';

const clearLine = '\r\u001b[2K';
const second = 1_000;
const minute = 60 * second;

/** A stream that stands for a terminal: it keeps what was written, and says it is a TTY of `columns`. */
function createFakeTerminal(columns: number): Writable & { text: () => string; columns: number; isTTY: true } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return Object.assign(sink, { text: () => text, columns, isTTY: true as const });
}

/** A hand-moved clock whose ticks run only when the test says so. */
function createFakeClock() {
  let now = Date.UTC(2026, 11, 1, 9);
  const ticks = new Set<() => void>();
  return {
    now: () => now,
    every: (_milliseconds: number, tick: () => void) => {
      ticks.add(tick);
      return () => ticks.delete(tick);
    },
    advance(milliseconds: number) {
      now += milliseconds;
      for (const tick of [...ticks]) tick();
    },
    ticking: () => ticks.size,
  };
}

/** The status line as it stands on the screen now: what follows the last clear, with colours taken out. */
function statusLine(terminal: { text: () => string }): string {
  const text = terminal.text();
  return text.slice(text.lastIndexOf(clearLine) + clearLine.length).replace(/\u001b\[[0-9;]*m/g, '');
}

/** Every status line ever drawn: what was written after a clear, up to the next clear, with no newline in it. */
function drawnLines(terminal: { text: () => string }): string[] {
  return terminal
    .text()
    .split(clearLine)
    .flatMap((piece) => piece.split('\n').slice(-1))
    .filter((line) => line !== '')
    .map((line) => line.replace(/\u001b\[[0-9;]*m/g, ''));
}

function createLogger(options: { columns?: number; colour?: boolean } = {}) {
  const terminal = createFakeTerminal(options.columns ?? 100);
  const clock = createFakeClock();
  const exits: (() => void)[] = [];
  const logger = createTerminalLogger({
    stdout: terminal,
    stderr: terminal,
    colour: options.colour ?? false,
    clock,
    onExit: (callback) => {
      exits.push(callback);
      return () => undefined;
    },
  });
  return { logger, terminal, clock, exit: () => exits.forEach((callback) => callback()) };
}

describe('the status line on a terminal', () => {
  it('fits the width of the terminal, narrow or wide, and follows it when it changes', () => {
    const { logger, terminal, clock } = createLogger({ columns: 200, colour: true });
    logger.progress?.({ stage: 'synthesize', total: 12_345, done: 0 });
    for (const [name, state] of [['a', 'JOB_STATE_PENDING'], ['b', 'JOB_STATE_RUNNING'], ['c', 'JOB_STATE_SUCCEEDED'], ['d', 'JOB_STATE_FAILED']] as const) {
      logger.progress?.({ stage: 'synthesize', job: { name: `batches/${name}`, state } });
    }
    clock.advance(75 * minute);
    logger.progress?.({ stage: 'synthesize', answered: 6_789 });
    clock.advance(second);
    const wide = statusLine(terminal);
    expect(wide).toMatch(/^synthesize +\[#+-+\] 6789\/12345 +jobs: 1 pending, 1 running, 1 succeeded, 1 failed +1h15m, about 1h01m left$/);

    for (const columns of [80, 60, 40, 24, 12]) {
      terminal.columns = columns;
      clock.advance(second);
      const line = statusLine(terminal);
      // One column is kept free: a line that reaches the last column makes some terminals wrap.
      expect(line.length, `${columns} columns: ${line}`).toBeLessThan(columns);
      expect(line, `${columns} columns`).toMatch(/^synthesize|^synthes/);
    }
    terminal.columns = 40;
    clock.advance(second);
    expect(statusLine(terminal)).toContain('6789/12345');
    for (const line of drawnLines(terminal)) expect(line.length).toBeLessThan(200);
  });

  it('shows the time the stage has taken and an estimate of what remains, from what this run answered', () => {
    const { logger, terminal, clock } = createLogger();
    logger.progress?.({ stage: 'analyze', total: 10, done: 0 });
    // Answers from an earlier run come at once and say nothing about how fast the rest will go.
    logger.progress?.({ stage: 'analyze', withoutRequest: 6 });
    expect(statusLine(terminal)).toMatch(/6\/10 +0s$/);
    clock.advance(2 * minute);
    expect(statusLine(terminal)).toMatch(/6\/10 +2m00s$/);
    logger.progress?.({ stage: 'analyze', answered: 2 });
    clock.advance(second);
    // 2 answered in 2 minutes: the 2 left take about as long again.
    expect(statusLine(terminal)).toMatch(/8\/10 +2m01s, about 2m01s left$/);
    logger.progress?.({ stage: 'analyze', answered: 2 });
    clock.advance(5 * minute);
    // Finished: the time stops, and nothing is left to estimate.
    expect(statusLine(terminal)).toMatch(/10\/10 +2m01s$/);
  });

  it('redraws only what changed, and at most a few times a second however many answers arrive', () => {
    const { logger, terminal, clock } = createLogger();
    logger.progress?.({ stage: 'synthesize', total: 10_000, done: 0 });
    const before = drawnLines(terminal).length;
    for (let index = 0; index < 10_000; index += 1) logger.progress?.({ stage: 'synthesize', answered: 1 });
    expect(drawnLines(terminal).length - before).toBeLessThanOrEqual(1);
    clock.advance(second);
    expect(statusLine(terminal)).toContain('10000/10000');
    const drawn = drawnLines(terminal).length;
    clock.advance(second);
    clock.advance(second);
    // Finished and unchanged: nothing more is written.
    expect(drawnLines(terminal).length).toBe(drawn);
  });

  it('keeps messages as lines above it, and takes it away when the command ends', () => {
    const { logger, terminal, clock, exit } = createLogger();
    logger.progress?.({ stage: 'synthesize', total: 6, done: 0, job: { name: 'batches/a', state: 'JOB_STATE_RUNNING' } });
    logger.info('batches/a: succeeded');
    logger.print('synthesize: done, 6 of 6 ok');
    expect(terminal.text()).toContain(`${clearLine}synthesize: done, 6 of 6 ok\n${clearLine}synthesize`);
    exit();
    // The screen ends with the summary alone: no status line below it, and none drawn again.
    const text = terminal.text();
    expect(text.endsWith(clearLine)).toBe(true);
    expect(text.slice(0, text.lastIndexOf('\n'))).toMatch(/synthesize: done, 6 of 6 ok$/);
    const length = terminal.text().length;
    clock.advance(second);
    logger.progress?.({ stage: 'synthesize', answered: 1 });
    expect(terminal.text().length).toBe(length);
    expect(clock.ticking()).toBe(0);
  });
});

describe('the status line in a real process', () => {
  const script = join(import.meta.dirname, '..', 'support', 'terminal-logger-process.ts');
  const start = (mode: 'exit' | 'wait') => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    return { child, exited, stderr: () => stderr, lines: createInterface({ input: child.stdout })[Symbol.asyncIterator]() };
  };

  it('is cleared when the process exits', async () => {
    const { exited, stderr } = start('exit');
    const [code] = await exited;
    expect(code, stderr()).toBe(4);
    expect(stderr()).toContain('synthesize  [');
    expect(stderr().endsWith(clearLine)).toBe(true);
  });

  it('is cleared when a second Ctrl-C ends the process at once', async () => {
    const { child, exited, stderr, lines } = start('wait');
    expect((await lines.next()).value).toBe('ready');
    child.kill('SIGINT');
    expect((await lines.next()).value).toBe('stopping');
    child.kill('SIGINT');
    const [code, signal] = await exited;
    expect({ code, signal }, stderr()).toEqual({ code: null, signal: 'SIGINT' });
    expect(stderr()).toContain('Stopping: finishing');
    expect(stderr().endsWith(clearLine)).toBe(true);
  });
});
