#!/usr/bin/env node
// `npm run build`: compiles the product folders to dist/ (tsc in build mode, so an unchanged tree costs one look at
// the timestamps) and copies what tsc does not emit but the compiled code reads beside itself (the UI's assets).
import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '--build', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
} catch {
  // tsc has printed what is wrong; its stack would only hide that.
  process.exit(1);
}
cpSync(join(root, 'pipeline', 'ui', 'assets'), join(root, 'dist', 'pipeline', 'ui', 'assets'), { recursive: true });
