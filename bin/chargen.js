#!/usr/bin/env node
// The one entry file: it runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` runs in a clone and
// `npm pack` before packing) and is the only place that calls process.exit.
import { fileURLToPath } from 'node:url';

// A reader that stops early (`chargen --help | head`) closes the pipe: what is left to print goes nowhere, and a run
// goes on to its end (and its exit code) rather than dying mid-write with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

const entry = new URL('../dist/pipeline/cli/run-cli.js', import.meta.url);
const { runCli } = await import(entry.href).catch((error) => {
  // A clone that skipped the build (`npm ci --ignore-scripts`) would otherwise print a resolver stack.
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(fileURLToPath(entry))) {
    process.stderr.write('chargen is not built: run `npm run build` in its folder (a clone builds on `npm ci`).\n');
    process.exit(1);
  }
  throw error;
});
const exitCode = await runCli({ argv: process.argv, cwd: process.cwd(), env: process.env });
// process.exit drops what a pipe has not taken yet (a --json summary of 10,000 outputs is megabytes): flush first.
const flush = (stream) => new Promise((resolve) => stream.write('', () => resolve()));
await Promise.all([flush(process.stdout), flush(process.stderr)]);
if (typeof exitCode === 'number') process.exit(exitCode);
