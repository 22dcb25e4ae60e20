import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createTerminalLogger } from '../../pipeline/cli/create-terminal-logger.ts';
import { formatProgressLine } from '../../pipeline/cli/format-progress-line.ts';
import { createStreamLogger, reportStageSummary } from '../../lib/logger.ts';

function createSink(): Writable & { text: () => string } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return Object.assign(sink, { text: () => text });
}

/** A clock that stands still and never ticks. */
const stoppedClock = { now: () => 0, every: () => () => undefined };

describe('the terminal logger', () => {
  it('draws a bar of items and the count of jobs per state', () => {
    const jobs = new Map([['batches/a', 'JOB_STATE_RUNNING'], ['batches/b', 'JOB_STATE_SUCCEEDED']]);
    const line = formatProgressLine({ view: { stage: 'synthesize', done: 6, total: 12, jobs, elapsedMilliseconds: 185_000, remainingMilliseconds: 260_000 }, colour: false, columns: 120 });
    expect(line).toBe(`synthesize  [${'#'.repeat(12)}${'-'.repeat(12)}] 6/12  jobs: 1 running, 1 succeeded  3m05s, about 4m20s left`);
  });

  it('keeps messages as plain lines above one redrawn status line, with no colour under NO_COLOR', () => {
    const stdout = createSink();
    const stderr = createSink();
    const logger = createTerminalLogger({ stdout, stderr, colour: false, onExit: () => () => undefined, clock: stoppedClock });
    logger.progress?.({ stage: 'analyze', job: { name: 'batches/x', state: 'JOB_STATE_PENDING' } });
    logger.info('batches/x: running');
    logger.progress?.({ stage: 'analyze', job: { name: 'batches/x', state: 'JOB_STATE_RUNNING' } });
    logger.warn('bad.png: not an image');
    expect(stderr.text()).toContain('batches/x: running\n');
    expect(stderr.text()).toContain('warning: bad.png: not an image\n');
    expect(stderr.text().endsWith('\r\u001b[2Kwarning: bad.png: not an image\n\r\u001b[2Kanalyze  jobs: 1 running  0s')).toBe(true);
    expect(stderr.text()).not.toMatch(/\u001b\[3\dm/);
  });

  it("prints a stage's closing line on a pipe but not on a terminal, where the run's summary follows: one summary, not two", () => {
    const terminal = createSink();
    const onTerminal = createTerminalLogger({ stdout: createSink(), stderr: terminal, colour: false, onExit: () => () => undefined, clock: stoppedClock });
    reportStageSummary(onTerminal, { stage: 'analyze', summary: 'analyze: 6 distinct images, 0 from earlier runs, 6 requests sent' });
    expect(terminal.text()).toBe('');
    const pipe = createSink();
    const onPipe = createStreamLogger({ stdout: createSink(), stderr: pipe });
    reportStageSummary(onPipe, { stage: 'analyze', summary: 'analyze: 1 distinct image, 0 from earlier runs, 1 request sent' });
    expect(pipe.text()).toBe('analyze: 1 distinct image, 0 from earlier runs, 1 request sent\n');
  });

  it('colours job states when colour is allowed', () => {
    const stderr = createSink();
    const logger = createTerminalLogger({ stdout: createSink(), stderr, colour: true, onExit: () => () => undefined, clock: stoppedClock });
    logger.progress?.({ stage: 'synthesize', done: 1, total: 2, job: { name: 'batches/y', state: 'JOB_STATE_FAILED' } });
    expect(stderr.text()).toContain('\u001b[31m1 failed');
  });
});
