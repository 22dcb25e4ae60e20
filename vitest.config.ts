import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The CLI the tests spawn runs the compiled code: build it first (incremental; see test/support/build-dist.ts).
    globalSetup: ['test/support/build-dist.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Most suites wait on child processes (the CLI, the emulator) rather than compute: two files at once on 2 cores
    // (vitest's default is one fewer than the cores).
    maxWorkers: 2,
  },
});
