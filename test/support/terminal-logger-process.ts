// A child process for the terminal logger's exit tests: it draws a status line on a stream that stands for a
// terminal (fd 2, flagged as a TTY of 80 columns), then either exits at once (`exit`) or waits as a run waiting on a
// job does, stopping on the first Ctrl-C as `chargen run` does and leaving the second to the default (`wait`).
import { writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { createTerminalLogger } from '../../pipeline/cli/create-terminal-logger.ts';

const terminal = Object.assign(
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      writeSync(2, chunk);
      done();
    },
  }),
  { isTTY: true, columns: 80 },
);
const logger = createTerminalLogger({ stdout: terminal, stderr: terminal, colour: false });
logger.progress?.({ stage: 'synthesize', total: 6, done: 1, job: { name: 'batches/a', state: 'JOB_STATE_RUNNING' } });
if (process.argv[2] === 'exit') process.exit(4);
process.once('SIGINT', () => {
  logger.info('Stopping: finishing the current write and saving state (press Ctrl-C again to quit at once)…');
  writeSync(1, 'stopping\n');
});
writeSync(1, 'ready\n');
setInterval(() => undefined, 60_000);
