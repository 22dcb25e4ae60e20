#!/usr/bin/env node
// The one entry file: it loads the TypeScript sources through tsx (so `npx chargen` works straight after `npm ci`,
// with no build step), runs the CLI, and is the only place that calls process.exit.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../pipeline/cli/run-cli.ts');
const exitCode = await runCli({ argv: process.argv, cwd: process.cwd(), env: process.env });
// process.exit drops what a pipe has not taken yet (a --json summary of 10,000 outputs is megabytes): flush first.
const flush = (stream) => new Promise((resolve) => stream.write('', () => resolve()));
await Promise.all([flush(process.stdout), flush(process.stderr)]);
if (typeof exitCode === 'number') process.exit(exitCode);
