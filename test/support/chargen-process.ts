import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const chargenBinary = join(import.meta.dirname, '..', '..', 'bin', 'chargen.js');

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a Node script to its end and keeps what it printed. */
export async function runNodeProcess(options: { args: string[]; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<ProcessResult> {
  const child = spawn(process.execPath, options.args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** A chargen command that serves until Ctrl-C (`emulator`, `ui`), run as a user runs it. */
export interface ServingProcess {
  /** What it printed as its address. */
  url: string;
  /** Every line it wrote to stderr. */
  stderr: string[];
  /** Ctrl-C, as a user would stop it; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/** Starts `chargen <args>` and resolves once a stdout line matches `urlPattern` (its first group is the URL). */
async function startServingProcess(options: { args: string[]; cwd?: string; env?: NodeJS.ProcessEnv; urlPattern: RegExp }): Promise<ServingProcess> {
  const child = spawn(process.execPath, [chargenBinary, ...options.args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  let url = '';
  for await (const line of createInterface({ input: child.stdout })) {
    const match = options.urlPattern.exec(line);
    if (match?.[1]) {
      url = match[1];
      break;
    }
  }
  if (!url) {
    if (child.exitCode === null) await once(child, 'exit');
    throw new Error(`chargen ${options.args[0]} exited (${child.exitCode}) without printing its URL:\n${stderr.join('\n')}`);
  }
  // Keep draining stdout, or a chatty process would block on a full pipe.
  child.stdout.resume();
  return {
    url,
    stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGINT');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}

export interface EmulatorProcess {
  baseUrl: string;
  /** Every line the emulator wrote to stderr (a warning there means a bug in the emulator, not in chargen). */
  stderr: string[];
  /** Ctrl-C, as a user would stop it; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/** `chargen emulator --port 0 [--cancel-ms ms] [--faults file]` as a child process, as a user starts it. */
export async function startEmulatorProcess(options: { pendingMilliseconds: number; runningMilliseconds: number; cancelMilliseconds?: number; faultsPath?: string }): Promise<EmulatorProcess> {
  const { url, stderr, stop } = await startServingProcess({
    args: [
      'emulator', '--port', '0',
      '--pending-ms', String(options.pendingMilliseconds),
      '--running-ms', String(options.runningMilliseconds),
      ...(options.cancelMilliseconds !== undefined ? ['--cancel-ms', String(options.cancelMilliseconds)] : []),
      ...(options.faultsPath ? ['--faults', options.faultsPath] : []),
    ],
    urlPattern: /at (http:\/\/127\.0\.0\.1:\d+)/,
  });
  return { baseUrl: url, stderr, stop };
}

/** `chargen ui --port 0` in `cwd` as a child process; `stderr` holds the log of runs started from the page too. */
export function startUiProcess(options: { cwd: string; env: NodeJS.ProcessEnv; args?: string[] }): Promise<ServingProcess> {
  return startServingProcess({ args: ['ui', '--port', '0', ...(options.args ?? [])], cwd: options.cwd, env: options.env, urlPattern: /^chargen ui: (http:\/\/127\.0\.0\.1:\d+\/)/ });
}

/**
 * `chargen <args>` to its end, with each stderr line given to `onLine` as it comes, which may act on the process
 * (`interrupt`: Ctrl-C, as a user stops it) or on the world (move an emulator's clock on).
 */
export async function runWatchingStderr(options: {
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  onLine: (line: string, interrupt: () => void) => void | Promise<void>;
}): Promise<ProcessResult> {
  const child = spawn(process.execPath, [chargenBinary, ...options.args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = once(child, 'exit');
  let interrupted = false;
  const interrupt = () => {
    if (!interrupted) child.kill('SIGINT');
    interrupted = true;
  };
  for await (const line of createInterface({ input: child.stderr })) {
    stderr += `${line}\n`;
    await options.onLine(line, interrupt);
  }
  const [code] = (await exited) as [number | null];
  return { code, stdout, stderr };
}

/** `chargen <args>` stopped with Ctrl-C as soon as it writes a stderr line `when` picks; to its end. */
export function runAndInterrupt(options: { args: string[]; cwd: string; env: NodeJS.ProcessEnv; when: (line: string) => boolean }): Promise<ProcessResult> {
  return runWatchingStderr({ ...options, onLine: (line, interrupt) => (options.when(line) ? interrupt() : undefined) });
}
