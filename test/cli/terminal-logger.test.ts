import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createTerminalLogger, formatProgressLine } from '../../pipeline/cli/create-terminal-logger.ts';

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

describe('the terminal logger', () => {
  it('draws a bar of items and the count of jobs per state', () => {
    const line = formatProgressLine({ stage: 'synthesize', progress: { done: 6, total: 12, jobs: new Map([['batches/a', 'JOB_STATE_RUNNING'], ['batches/b', 'JOB_STATE_SUCCEEDED']]) }, colour: false });
    expect(line).toBe(`synthesize  [${'#'.repeat(12)}${'-'.repeat(12)}] 6/12  jobs: 1 running, 1 succeeded`);
  });

  it('keeps messages as plain lines above one redrawn status line, with no colour under NO_COLOR', () => {
    const stdout = createSink();
    const stderr = createSink();
    const logger = createTerminalLogger({ stdout, stderr, colour: false });
    logger.progress?.({ stage: 'analyze', job: { name: 'batches/x', state: 'JOB_STATE_PENDING' } });
    logger.info('batches/x: running');
    logger.progress?.({ stage: 'analyze', job: { name: 'batches/x', state: 'JOB_STATE_RUNNING' } });
    logger.warn('bad.png: not an image');
    expect(stderr.text()).toContain('batches/x: running\n');
    expect(stderr.text()).toContain('warning: bad.png: not an image\n');
    expect(stderr.text().endsWith('\r\u001b[2Kwarning: bad.png: not an image\nanalyze  jobs: 1 running')).toBe(true);
    expect(stderr.text()).not.toMatch(/\u001b\[3\dm/);
  });

  it('colours job states when colour is allowed', () => {
    const stderr = createSink();
    const logger = createTerminalLogger({ stdout: createSink(), stderr, colour: true });
    logger.progress?.({ stage: 'synthesize', done: 1, total: 2, job: { name: 'batches/y', state: 'JOB_STATE_FAILED' } });
    expect(stderr.text()).toContain('\u001b[31m1 failed');
  });
});
