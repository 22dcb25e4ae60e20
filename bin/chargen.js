#!/usr/bin/env node
// The one entry file: it loads the TypeScript sources through tsx (so `npx chargen` works straight after `npm ci`,
// with no build step), runs the CLI, and is the only place that calls process.exit.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../pipeline/cli/run-cli.ts');
const exitCode = await runCli({ argv: process.argv, cwd: process.cwd(), env: process.env });
if (typeof exitCode === 'number') process.exit(exitCode);
