import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** One `chargen run` watched from outside: when each image reached the output folder, and how the run ended. */
export interface MeasuredFlowRun {
  /** Milliseconds from the start to the first and to the last image seen (undefined: none came). */
  firstImageMilliseconds: number | undefined;
  lastImageMilliseconds: number | undefined;
  images: number;
  /** The run's exit code, or `stopped` when the window ended first (it was then stopped with Ctrl-C). */
  ended: number | 'stopped';
  elapsedMilliseconds: number;
  stderr: string;
}

async function countImages(outputDirectory: string): Promise<number> {
  const files = await readdir(outputDirectory).catch(() => [] as string[]);
  return files.filter((file) => /\.(jpg|png)$/.test(file) && !file.startsWith('.')).length;
}

/**
 * Runs `node <binary> run --yes` in the project and polls its output folder every 100 ms until the run exits or the
 * window ends (then Ctrl-C, as a user stops it; SIGKILL if it has not gone 10 s later).
 */
export async function measureFlowRun(options: { binary: string; project: string; outputDirectory: string; env: NodeJS.ProcessEnv; windowMilliseconds: number }): Promise<MeasuredFlowRun> {
  const startedAt = performance.now();
  const child = spawn(process.execPath, [options.binary, 'run', '--yes'], { cwd: options.project, env: options.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  let images = 0;
  let first: number | undefined;
  let last: number | undefined;
  const look = async () => {
    const count = await countImages(options.outputDirectory);
    const elapsed = performance.now() - startedAt;
    if (count > 0 && first === undefined) first = elapsed;
    if (count > images) last = elapsed;
    images = Math.max(images, count);
  };
  while (exitCode === undefined && performance.now() - startedAt < options.windowMilliseconds) {
    await sleep(100);
    await look();
  }
  let ended: number | 'stopped';
  if (exitCode === undefined) {
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    ended = 'stopped';
  } else {
    ended = exitCode ?? -1;
    await look();
  }
  return { firstImageMilliseconds: first, lastImageMilliseconds: last, images, ended, elapsedMilliseconds: performance.now() - startedAt, stderr };
}
