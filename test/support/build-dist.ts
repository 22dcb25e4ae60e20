// Vitest's globalSetup: the suites spawn bin/chargen.js, which runs dist/, so dist/ is brought up to date before any
// test runs (tsc in build mode: an unchanged tree costs a look at timestamps), and a test never meets a stale build.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function buildDist(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, '..', '..', 'scripts', 'build.js')], { stdio: 'inherit' });
}
