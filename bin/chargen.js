#!/usr/bin/env node
// The one entry file: it loads the TypeScript sources through tsx (so `npx chargen` works straight after `npm ci`,
// with no build step), runs the CLI, and is the only place that calls process.exit.
import { register } from 'tsx/esm/api';

// A reader that stops early (`chargen --help | head`) closes the pipe: what is left to print goes nowhere, and a run
// goes on to its end (and its exit code) rather than dying mid-write with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

register();
const { runCli } = await import('../pipeline/cli/run-cli.ts');
const exitCode = await runCli({ argv: process.argv, cwd: process.cwd(), env: process.env });
// process.exit drops what a pipe has not taken yet (a --json summary of 10,000 outputs is megabytes): flush first.
const flush = (stream) => new Promise((resolve) => stream.write('', () => resolve()));
await Promise.all([flush(process.stdout), flush(process.stderr)]);
if (typeof exitCode === 'number') process.exit(exitCode);
